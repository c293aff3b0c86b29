//! What the file-serving protocols (TFTP, HTTP) ask for, and what they get: the one contract
//! between the protocol servers and whatever decides which bytes a phone receives.
//!
//! A protocol server turns its request into a [`FileRequest`] and calls
//! [`FileSource::open`]; it never interprets the name itself, so path rules (and path
//! traversal) live in one place: the source.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;

use bytes::Bytes;

/// The protocol a request came in by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TFTP (RFC 1350), UDP.
    Tftp,
    /// HTTP on the relay's port.
    Http,
}

/// A phone asking for a file.
#[derive(Debug, Clone)]
pub struct FileRequest {
    /// The name or path as the phone sent it (TFTP file name, HTTP path without the query).
    pub path: String,
    /// The HTTP User-Agent, if any (TFTP has none).
    pub user_agent: Option<String>,
    /// Where the request came from.
    pub peer: SocketAddr,
    /// How it came.
    pub transport: Transport,
}

/// The bytes to send.
#[derive(Debug)]
pub enum FileBody {
    /// Rendered in memory (configs, phonebooks).
    Memory(Bytes),
    /// A file on disk (firmware), opened, with its length.
    Disk {
        /// The open file.
        file: tokio::fs::File,
        /// Its length in bytes.
        len: u64,
    },
}

impl FileBody {
    /// The length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Self::Memory(b) => b.len() as u64,
            Self::Disk { len, .. } => *len,
        }
    }

    /// `true` for an empty body.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A file found, with what the metrics and logs need to know about it.
#[derive(Debug)]
pub struct Served {
    /// The body.
    pub body: FileBody,
    /// The content type for HTTP.
    pub content_type: &'static str,
    /// The vendor whose phone asked (for metrics), if known.
    pub vendor: Option<engine::Vendor>,
}

/// Why no file is served. Protocols map every variant to their "not found" (TFTP error 1,
/// HTTP 404), so a client cannot tell the reasons apart; the variant goes to logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No such file, or a name that is not one we serve.
    NotFound,
    /// The phone or its MAC is not allowed (deny list, unknown phone, User-Agent mismatch).
    Denied,
    /// Something failed on our side (logged where it happened).
    Internal,
}

/// Decides what a request gets.
pub trait FileSource: Send + Sync + 'static {
    /// The file `req` asks for.
    fn open(&self, req: FileRequest) -> impl Future<Output = Result<Served, Refusal>> + Send;
}

/// Serves the files of one directory (the firmware cache, or `--tftp-root` for a plain TFTP
/// server): only plain names, one level or nested, each segment checked by the engine, so
/// no request can leave the directory.
#[derive(Debug, Clone)]
pub struct DirSource {
    root: PathBuf,
}

impl DirSource {
    /// Serves `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The path under the root for `name`, or `None` if the name is not a plain relative path.
    pub fn resolve(&self, name: &str) -> Option<PathBuf> {
        let name = name.strip_prefix('/').unwrap_or(name);
        let mut path = self.root.clone();
        let mut any = false;
        for seg in name.split('/') {
            if !engine::is_plain_file_name(seg) {
                return None;
            }
            path.push(seg);
            any = true;
        }
        any.then_some(path)
    }
}

impl FileSource for DirSource {
    async fn open(&self, req: FileRequest) -> Result<Served, Refusal> {
        let path = self.resolve(&req.path).ok_or(Refusal::NotFound)?;
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|_| Refusal::NotFound)?;
        let meta = file.metadata().await.map_err(|_| Refusal::NotFound)?;
        if !meta.is_file() {
            return Err(Refusal::NotFound);
        }
        Ok(Served {
            body: FileBody::Disk {
                file,
                len: meta.len(),
            },
            content_type: "application/octet-stream",
            vendor: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::DirSource;

    #[test]
    fn dir_source_stays_inside_its_root() {
        let d = DirSource::new("/srv/fw");
        assert_eq!(d.resolve("a.rom").unwrap().to_str(), Some("/srv/fw/a.rom"));
        assert_eq!(
            d.resolve("/yealink/a.rom").unwrap().to_str(),
            Some("/srv/fw/yealink/a.rom")
        );
        for bad in [
            "",
            "/",
            "../etc/passwd",
            "a/../../b",
            "a//b",
            ".hidden",
            "a\\b",
            "a\0b",
            "%2e%2e/x",
        ] {
            assert!(d.resolve(bad).is_none(), "{bad:?}");
        }
    }
}
