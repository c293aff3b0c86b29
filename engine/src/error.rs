//! The engine's one error type.

use std::fmt;

/// What went wrong, in broad classes a shell can map to a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A MAC address that is not six octets in one of the accepted spellings.
    InvalidMac,
    /// Additional Parameters (INI) that cannot be parsed or merged.
    InvalidParams,
    /// A template that does not compile.
    TemplateSyntax,
    /// A template that compiled but failed while rendering.
    TemplateRender,
    /// Output or input that must be well-formed XML and is not.
    InvalidXml,
    /// A firmware upload that is refused (extension, size, quota).
    FirmwareRejected,
    /// A value that is out of range or malformed (model, URL, extension, ...).
    InvalidInput,
    /// The vendor or resource is not something this engine provisions.
    Unsupported,
}

impl ErrorKind {
    /// A short lowercase description of the kind.
    pub fn description(self) -> &'static str {
        match self {
            Self::InvalidMac => "invalid MAC address",
            Self::InvalidParams => "invalid additional parameters",
            Self::TemplateSyntax => "template syntax error",
            Self::TemplateRender => "template render error",
            Self::InvalidXml => "malformed XML",
            Self::FirmwareRejected => "firmware rejected",
            Self::InvalidInput => "invalid input",
            Self::Unsupported => "unsupported",
        }
    }
}

/// An error from the engine: a kind, a human-readable detail and, for text inputs, the
/// 1-based line and column it refers to.
///
/// The detail never contains a secret: errors are built from positions, names and the
/// offending *template or INI source text*, never from rendered values.
pub struct Error {
    repr: Box<Repr>,
}

struct Repr {
    kind: ErrorKind,
    detail: String,
    line: Option<usize>,
    col: Option<usize>,
    name: Option<String>,
}

impl Error {
    /// Creates an error of `kind` with a detail message.
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            repr: Box::new(Repr {
                kind,
                detail: detail.into(),
                line: None,
                col: None,
                name: None,
            }),
        }
    }

    /// Attaches a 1-based line (and optionally column) position.
    #[must_use]
    pub fn at(mut self, line: usize, col: Option<usize>) -> Self {
        self.repr.line = Some(line);
        self.repr.col = col;
        self
    }

    /// Attaches the name of the input (template name, file name, field name).
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.repr.name = Some(name.into());
        self
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.repr.kind
    }

    /// The detail message, without kind or position.
    pub fn detail(&self) -> &str {
        &self.repr.detail
    }

    /// The 1-based line the error refers to, if any.
    pub fn line(&self) -> Option<usize> {
        self.repr.line
    }

    /// The 1-based column the error refers to, if known.
    pub fn col(&self) -> Option<usize> {
        self.repr.col
    }

    /// The name of the input (template, file or field), if known.
    pub fn name(&self) -> Option<&str> {
        self.repr.name.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = &self.repr.name {
            write!(f, "{name}: ")?;
        }
        match (self.repr.line, self.repr.col) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: ")?,
            (Some(l), None) => write!(f, "line {l}: ")?,
            _ => {}
        }
        write!(f, "{}: {}", self.repr.kind.description(), self.repr.detail)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.repr.kind)
            .field("detail", &self.repr.detail)
            .field("line", &self.repr.line)
            .field("col", &self.repr.col)
            .field("name", &self.repr.name)
            .finish()
    }
}

impl std::error::Error for Error {}

/// The first 60 characters of an input, for quoting it in an error message without
/// echoing a whole hostile input back.
pub(crate) fn clip(s: &str) -> String {
    s.chars().take(60).collect()
}

/// Result alias used throughout the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;
