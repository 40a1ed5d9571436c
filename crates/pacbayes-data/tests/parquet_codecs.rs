//! Parquet through the codecs this build keeps (see `patches/README.md`): the writer's default,
//! zstd, is what `metrics.parquet` and `table.parquet` are written with; snappy and gzip are what
//! other tools commonly hand us to read. A change to the patched `polars-io` that drops one of them
//! fails here, not in a user's run.

use std::path::{Path, PathBuf};

use pacbayes_data::{TabularOptions, load_parquet};
use polars::prelude::{Column, DataFrame, ParquetCompression, ParquetReader, ParquetWriter, SerReader};

/// 60 rows: a float and an integer feature, string labels in three classes.
fn frame() -> DataFrame {
    let n = 60;
    let x1: Vec<f64> = (0..n).map(|i| f64::from(i) * 0.25 - 3.0).collect();
    let x2: Vec<i64> = (0..n).map(|i| i64::from(i * i % 17)).collect();
    let label: Vec<&str> = (0..n).map(|i| ["ant", "bee", "cod"][(i % 3) as usize]).collect();
    DataFrame::new(
        n as usize,
        vec![Column::new("x1".into(), x1), Column::new("x2".into(), x2), Column::new("label".into(), label)],
    )
    .expect("a well-formed frame")
}

fn write(dir: &Path, name: &str, compression: Option<ParquetCompression>) -> PathBuf {
    let path = dir.join(name);
    let file = std::fs::File::create(&path).expect("create");
    let writer = ParquetWriter::new(file);
    let writer = match compression {
        Some(c) => writer.with_compression(c),
        None => writer,
    };
    writer.finish(&mut frame()).unwrap_or_else(|e| panic!("write {name}: {e}"));
    path
}

fn read(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).expect("open")).finish().expect("read parquet")
}

#[test]
fn the_writers_default_is_zstd() {
    // `metrics.rs` and `table.rs` call `ParquetWriter::new(..).finish(..)` without a codec.
    let dir = tempfile::tempdir().expect("temporary directory");
    let default = std::fs::read(write(dir.path(), "default.parquet", None)).expect("read bytes");
    let zstd = std::fs::read(write(dir.path(), "zstd.parquet", Some(ParquetCompression::Zstd(None))))
        .expect("read bytes");
    let snappy = std::fs::read(write(dir.path(), "snappy.parquet", Some(ParquetCompression::Snappy)))
        .expect("read bytes");
    assert_eq!(default, zstd, "the default codec is no longer zstd: check patches/polars-io-0.55.2");
    assert_ne!(default, snappy, "codec choice must show in the bytes");
}

#[test]
fn kept_codecs_round_trip() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let opts = TabularOptions { label_column: "label".into(), ..TabularOptions::default() };
    let expected = frame();
    let codecs = [
        ("zstd", ParquetCompression::Zstd(None)),
        ("snappy", ParquetCompression::Snappy),
        ("gzip", ParquetCompression::Gzip(None)),
        ("uncompressed", ParquetCompression::Uncompressed),
    ];
    let mut loaded = Vec::new();
    for (name, codec) in codecs {
        let path = write(dir.path(), &format!("{name}.parquet"), Some(codec));
        let back = read(&path);
        assert!(back.equals(&expected), "{name}: the frame read back differs from the one written");
        let data = load_parquet(&path, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(data.train.len() + data.test.len(), 60, "{name}");
        assert_eq!(data.train.class_names(), ["ant", "bee", "cod"], "{name}");
        loaded.push(data);
    }
    for (data, (name, _)) in loaded.iter().zip(codecs).skip(1) {
        assert_eq!(data.train.features(), loaded[0].train.features(), "{name}");
        assert_eq!(data.test.labels(), loaded[0].test.labels(), "{name}");
    }
}

#[test]
fn dropped_codecs_are_refused_not_miswritten() {
    // brotli and lz4 are left out of the build on purpose (patches/README.md): asking for them is a
    // clear error. If this starts to pass writing, the patch is no longer applied.
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, codec) in [("brotli", ParquetCompression::Brotli(None)), ("lz4", ParquetCompression::Lz4Raw)] {
        let file = std::fs::File::create(dir.path().join(format!("{name}.parquet"))).expect("create");
        let err = ParquetWriter::new(file).with_compression(codec).finish(&mut frame());
        let err = err.expect_err(name).to_string();
        assert!(err.contains(name), "{name}: {err}");
    }
}
