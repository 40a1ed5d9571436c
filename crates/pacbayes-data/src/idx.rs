//! The IDX format of LeCun's MNIST files, gzipped or raw (detected from the gzip magic bytes).
//!
//! An IDX file is a 4-byte magic number `00 00 08 k` (unsigned bytes, `k` dimensions), `k` big-endian
//! `u32` sizes, then the data in row-major order. Only the unsigned-byte type is supported, which is
//! the type of every MNIST-family file.

use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;

use crate::error::{Error, Location, Result};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const EXPECTED_MAGIC: &str = "0x0000080k: IDX of unsigned bytes with k = 1..=4 dimensions";

/// The decoded content of an IDX file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// The sizes from the header, outermost first (`[60000, 28, 28]` for MNIST training images).
    pub dims: Vec<usize>,
    /// The data, row-major, `dims.iter().product()` bytes.
    pub data: Vec<u8>,
}

impl IdxArray {
    /// Size of the header in bytes (`4 + 4 · dims`): the byte offset of `data[0]` in the file.
    pub fn header_len(&self) -> u64 {
        4 + 4 * self.dims.len() as u64
    }
}

/// Reads a whole file, naming it on failure (a missing file is [`Error::MissingFile`]).
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// Reads and decodes the IDX file at `path`, gzipped or raw.
pub fn read_idx(path: &Path) -> Result<IdxArray> {
    decode_idx(path, &read_bytes(path)?)
}

/// Decodes IDX `bytes` (gzipped or raw) read from `path`, which names the file in errors.
pub fn decode_idx(path: &Path, bytes: &[u8]) -> Result<IdxArray> {
    if bytes.is_empty() {
        return Err(Error::Empty { path: path.into(), what: "no bytes" });
    }
    if bytes.starts_with(&GZIP_MAGIC) {
        let raw = gunzip(path, bytes)?;
        if raw.is_empty() {
            return Err(Error::Empty { path: path.into(), what: "no bytes after decompression" });
        }
        parse(path, raw)
    } else {
        parse(path, bytes.to_vec())
    }
}

fn gunzip(path: &Path, bytes: &[u8]) -> Result<Vec<u8>> {
    // The gzip trailer holds the uncompressed size modulo 2^32: a good capacity hint.
    let hint = bytes
        .len()
        .checked_sub(4)
        .map_or(0, |at| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]));
    let mut out = Vec::with_capacity((hint as usize).min(1 << 30));
    GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| Error::CorruptGzip { path: path.into(), reason: e.to_string() })?;
    Ok(out)
}

fn parse(path: &Path, mut raw: Vec<u8>) -> Result<IdxArray> {
    let truncated = |offset: usize, expected: u64, found: usize| Error::Truncated {
        path: path.into(),
        at: Location::Byte(offset as u64),
        expected,
        found: found as u64,
    };
    if raw.len() < 4 {
        return Err(truncated(0, 4, raw.len()));
    }
    let magic = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
    let n_dims = usize::from(raw[3]);
    if raw[0] != 0 || raw[1] != 0 || raw[2] != 0x08 || !(1..=4).contains(&n_dims) {
        return Err(Error::WrongMagic { path: path.into(), found: magic, expected: EXPECTED_MAGIC });
    }
    let header_len = 4 + 4 * n_dims;
    if raw.len() < header_len {
        return Err(truncated(4, 4 * n_dims as u64, raw.len() - 4));
    }
    let dims: Vec<usize> = raw[4..header_len]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let expected = dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d as u64)).unwrap_or(u64::MAX);
    let found = raw.len() - header_len;
    if (found as u64) < expected {
        return Err(truncated(header_len, expected, found));
    }
    if found as u64 > expected {
        return Err(Error::TrailingBytes {
            path: path.into(),
            at: Location::Byte(header_len as u64 + expected),
            extra: found as u64 - expected,
        });
    }
    raw.drain(..header_len);
    Ok(IdxArray { dims, data: raw })
}

/// Encodes `data` with `dims` as a raw IDX file of unsigned bytes (the inverse of [`decode_idx`]).
pub fn encode_idx(dims: &[usize], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for &d in dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).expect("in-memory write");
        enc.finish().expect("in-memory write")
    }

    #[test]
    fn raw_and_gzipped_decode_alike() {
        let file = encode_idx(&[2, 3], &[1, 2, 3, 4, 5, 6]);
        let p = Path::new("x.idx");
        let a = decode_idx(p, &file).expect("raw");
        let b = decode_idx(p, &gzip(&file)).expect("gzipped");
        assert_eq!(a, b);
        assert_eq!(a.dims, vec![2, 3]);
        assert_eq!(a.data, vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(a.header_len(), 12);
    }

    #[test]
    fn truncated_data_names_the_offset() {
        let mut file = encode_idx(&[2, 3], &[1, 2, 3, 4, 5, 6]);
        file.truncate(file.len() - 2);
        let err = decode_idx(Path::new("t.idx"), &gzip(&file)).expect_err("truncated");
        assert!(matches!(err, Error::Truncated { at: Location::Byte(12), expected: 6, found: 4, .. }));
        assert!(err.to_string().starts_with("t.idx: truncated at byte offset 12"), "{err}");
    }

    #[test]
    fn truncated_header_and_bad_magic_and_trailing_bytes() {
        let p = Path::new("h.idx");
        assert!(matches!(decode_idx(p, &[0, 0, 8]), Err(Error::Truncated { expected: 4, found: 3, .. })));
        assert!(matches!(decode_idx(p, &[0, 0, 8, 3, 0, 0]), Err(Error::Truncated { found: 2, .. })));
        let err = decode_idx(p, &[0, 0, 9, 1, 0, 0, 0, 0]).expect_err("float type");
        assert!(err.to_string().contains("wrong magic number 0x00000901"), "{err}");
        assert!(matches!(decode_idx(p, &[0, 0, 8, 0]), Err(Error::WrongMagic { .. })));
        let mut file = encode_idx(&[2], &[7, 7]);
        file.push(1);
        assert!(matches!(decode_idx(p, &file), Err(Error::TrailingBytes { extra: 1, .. })));
    }

    #[test]
    fn empty_and_corrupt_gzip() {
        let p = Path::new("e.idx");
        assert!(matches!(decode_idx(p, &[]), Err(Error::Empty { .. })));
        assert!(matches!(decode_idx(p, &gzip(&[])), Err(Error::Empty { .. })));
        let gz = gzip(&encode_idx(&[64], &[3; 64]));
        let err = decode_idx(p, &gz[..gz.len() / 2]).expect_err("cut stream");
        assert!(matches!(err, Error::CorruptGzip { .. }), "{err}");
    }
}
