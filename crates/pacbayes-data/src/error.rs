//! The one error type of this crate.

use std::fmt;
use std::path::PathBuf;

/// Where in a file something went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A byte offset into the (decompressed) IDX content.
    Byte(u64),
    /// A line of a CSV file, counting the header as line 1.
    Line(usize),
    /// A row of a Parquet file, counting from 1.
    Row(usize),
    /// A record of a file of fixed-size records, counting from 0, and the byte offset where it
    /// begins.
    Record {
        /// The record's index.
        index: usize,
        /// Its first byte.
        byte: u64,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Byte(offset) => write!(f, "byte offset {offset}"),
            Location::Line(line) => write!(f, "line {line}"),
            Location::Row(row) => write!(f, "row {row}"),
            Location::Record { index, byte } => write!(f, "record {index} (byte offset {byte})"),
        }
    }
}

/// What went wrong, naming the file (or argument) and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file that does not exist.
    #[error("{}: no such file", path.display())]
    MissingFile {
        /// The file looked for.
        path: PathBuf,
    },
    /// A folder that holds none of the files of a dataset.
    #[error("{}: the folder holds none of the {dataset} files (expected {expected})", path.display())]
    EmptyFolder {
        /// The folder.
        path: PathBuf,
        /// The dataset looked for.
        dataset: &'static str,
        /// The file names expected there.
        expected: &'static str,
    },
    /// A file of fixed-size records whose length is not a whole number of records.
    #[error(
        "{}: {len} bytes is not a whole number of {record_len}-byte records: the last record, from {at}, is cut short",
        path.display()
    )]
    PartialRecord {
        /// The file.
        path: PathBuf,
        /// Its length in bytes.
        len: u64,
        /// The length of one record.
        record_len: u64,
        /// Where the incomplete record begins.
        at: Location,
    },
    /// A file that exists but could not be read.
    #[error("{}: cannot read", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },
    /// A file with no bytes, or with a header and no data rows.
    #[error("{}: the file is empty ({what})", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
        /// What was missing ("no bytes", "no data rows").
        what: &'static str,
    },
    /// A gzip file whose compressed stream is damaged or cut short.
    #[error("{}: corrupt gzip stream: {reason}", path.display())]
    CorruptGzip {
        /// The file.
        path: PathBuf,
        /// The decoder's complaint.
        reason: String,
    },
    /// An IDX file whose first four bytes are not a supported magic number.
    #[error("{}: wrong magic number {found:#010x} at byte offset 0: expected {expected}", path.display())]
    WrongMagic {
        /// The file.
        path: PathBuf,
        /// The four bytes read, big-endian.
        found: u32,
        /// The magic numbers accepted, in words.
        expected: &'static str,
    },
    /// An IDX file that ends before its header says it should.
    #[error("{}: truncated at {at}: expected {expected} more bytes, found {found}", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Where the missing part begins.
        at: Location,
        /// Bytes the header promises from there on.
        expected: u64,
        /// Bytes actually present from there on.
        found: u64,
    },
    /// An IDX file with bytes after the data its header describes.
    #[error("{}: {extra} unexpected bytes after the data, from {at}", path.display())]
    TrailingBytes {
        /// The file.
        path: PathBuf,
        /// Where the extra bytes begin.
        at: Location,
        /// How many there are.
        extra: u64,
    },
    /// An IDX file with the wrong number of dimensions for its role.
    #[error("{}: {found} dimensions in the IDX header: expected {expected}", path.display())]
    WrongDimensions {
        /// The file.
        path: PathBuf,
        /// Dimensions found.
        found: usize,
        /// Dimensions accepted, in words.
        expected: &'static str,
    },
    /// An image file and a label file that disagree on the number of examples.
    #[error("{}: {n_images} images, but {} has {n_labels} labels", images.display(), labels.display())]
    CountMismatch {
        /// The image file.
        images: PathBuf,
        /// Number of images.
        n_images: usize,
        /// The label file.
        labels: PathBuf,
        /// Number of labels.
        n_labels: usize,
    },
    /// A label that is not a class index in `0..n_classes`.
    #[error("{}: label {label} at {at} is outside the class range 0..{n_classes}", path.display())]
    LabelOutOfRange {
        /// The file.
        path: PathBuf,
        /// Where the label is.
        at: Location,
        /// The label as written.
        label: String,
        /// Number of classes.
        n_classes: u32,
    },
    /// A file whose SHA-256 differs from the one recorded in `SHA256SUMS`.
    #[error("{}: SHA-256 {found} does not match {expected} recorded in SHA256SUMS", path.display())]
    HashMismatch {
        /// The file.
        path: PathBuf,
        /// The recorded hash.
        expected: String,
        /// The hash of the bytes read.
        found: String,
    },
    /// A data file that `SHA256SUMS` does not list.
    #[error("{}: not listed in {}", path.display(), sums.display())]
    UnlistedFile {
        /// The data file.
        path: PathBuf,
        /// The checksum file.
        sums: PathBuf,
    },
    /// A feature value that is not a number.
    #[error("{}: column {column:?} at {at}: {value:?} is not a number", path.display())]
    NonNumeric {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// Where the value is.
        at: Location,
        /// The value as written.
        value: String,
    },
    /// A missing (empty, null or NaN) value.
    #[error("{}: column {column:?} at {at}: missing value", path.display())]
    MissingValue {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// Where the value is missing.
        at: Location,
    },
    /// A column that the table lacks.
    #[error("{}: no column {column:?} (columns: {available})", path.display())]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column asked for.
        column: String,
        /// The columns present, comma-separated.
        available: String,
    },
    /// A table that polars could not read.
    #[error("{}: cannot parse: {reason}", path.display())]
    Table {
        /// The file.
        path: PathBuf,
        /// The parser's complaint.
        reason: String,
    },
    /// A fraction (`prior_fraction`, `validation_fraction`, ...) outside its range.
    #[error("{name} = {value} is invalid: expected a number in {expected}")]
    InvalidFraction {
        /// The parameter.
        name: &'static str,
        /// The value received.
        value: f64,
        /// The range, for example "[0, 1)".
        expected: &'static str,
    },
    /// Any other argument outside its domain.
    #[error("{name} is invalid: {reason}")]
    InvalidArgument {
        /// The argument.
        name: &'static str,
        /// What was expected.
        reason: String,
    },
    /// A split in which some class has no example in some part.
    #[error("{dataset}: the split leaves class {class} with no examples in the {part} part")]
    EmptyClass {
        /// The dataset.
        dataset: String,
        /// The class index.
        class: u32,
        /// "train", "prior", "validation" or "bound".
        part: &'static str,
    },
    /// A split in which a whole part is empty.
    #[error("{dataset}: the split leaves the {part} part empty")]
    EmptyPart {
        /// The dataset.
        dataset: String,
        /// "prior", "validation" or "bound".
        part: &'static str,
    },
    /// A manifest that does not describe the split rebuilt from its own settings.
    #[error("split manifest does not match the data: {field} is {found}, the manifest says {expected}")]
    ManifestMismatch {
        /// The first field that differs.
        field: &'static str,
        /// The manifest's value.
        expected: String,
        /// The value rebuilt from the data.
        found: String,
    },
}

impl Error {
    /// True when the error was caused by the input (a file, an argument) rather than by the machine.
    pub fn is_input(&self) -> bool {
        use std::io::ErrorKind;
        match self {
            Error::Io { source, .. } => matches!(
                source.kind(),
                ErrorKind::NotFound
                    | ErrorKind::PermissionDenied
                    | ErrorKind::InvalidData
                    | ErrorKind::UnexpectedEof
                    | ErrorKind::IsADirectory
            ),
            _ => true,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::MissingFile { path }
        } else {
            Error::Io { path, source }
        }
    }
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;
