//! The firmware cache: the site's images, downloaded from the edge
//! (`GET /relay/v1/firmware/<vendor>/<file>`) in advance of the phones asking, kept under
//! `state_dir/firmware/<vendor>/<file>`, each checked against its inventory row by size and
//! SHA-256 before it is moved into place (a download is written to a temporary file and
//! renamed, so a phone never gets half an image). Bounded: images are fetched in inventory
//! order while they fit in `max_bytes`; images no longer in the inventory are removed.
//! Downloads go through [`EdgeClient::firmware`]; the SHA-256 is computed while the image
//! streams to disk (images run to hundreds of MB), hence `sha2` directly.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use engine::encoding::hex;
use sha2::{Digest, Sha256};

use crate::edge::EdgeClient;

/// The cache's default bound.
pub const DEFAULT_MAX_BYTES: u64 = 1024 * 1024 * 1024;

/// Where `row`'s image lives in the cache under `dir`, if its names are plain.
pub fn path_of(dir: &Path, row: &engine::FirmwareRow) -> Option<PathBuf> {
    engine::is_plain_file_name(&row.file_name)
        .then(|| dir.join(row.vendor.as_str()).join(&row.file_name))
}

/// Whether the cached file for `row` is present with the right size.
fn present(dir: &Path, row: &engine::FirmwareRow) -> bool {
    path_of(dir, row)
        .and_then(|p| std::fs::metadata(p).ok())
        .is_some_and(|m| m.is_file() && m.len() == row.size)
}

/// Downloads one image into the cache, checked; blocking.
pub fn download(client: &EdgeClient, dir: &Path, row: &engine::FirmwareRow) -> Result<(), String> {
    let dest = path_of(dir, row).ok_or("not a plain file name")?;
    let parent = dest.parent().ok_or("no parent directory")?;
    std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    // One byte more than the row says, so an image that is too long is seen as such.
    let (mut reader, url) =
        client.firmware(row.vendor, &row.file_name, row.size.saturating_add(1))?;
    let tmp = parent.join(format!(".{}.part", row.file_name));
    let result = (|| {
        let mut out = std::fs::File::create(&tmp).map_err(|e| e.to_string())?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut total: u64 = 0;
        loop {
            let n = reader.read(&mut buf).map_err(|e| format!("{url}: {e}"))?;
            if n == 0 {
                break;
            }
            let chunk = buf.get(..n).unwrap_or_default();
            hasher.update(chunk);
            out.write_all(chunk).map_err(|e| e.to_string())?;
            total += n as u64;
        }
        if total != row.size {
            return Err(format!(
                "{url}: {total} bytes, the inventory says {}",
                row.size
            ));
        }
        if let Some(want) = &row.sha256 {
            if !hex(&hasher.finalize()).eq_ignore_ascii_case(want) {
                return Err(format!("{url}: SHA-256 mismatch"));
            }
        }
        out.sync_all().map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, &dest).map_err(|e| e.to_string())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Brings the cache in line with `rows`: fetches what is missing (while it fits in
/// `max_bytes`), removes what is no longer listed. Blocking; returns the number fetched.
pub fn refresh(
    client: &EdgeClient,
    dir: &Path,
    rows: &[engine::FirmwareRow],
    max_bytes: u64,
) -> usize {
    let mut budget = max_bytes;
    let mut fetched = 0;
    let mut keep = std::collections::HashSet::new();
    for row in rows {
        let Some(path) = path_of(dir, row) else {
            continue;
        };
        if row.size > budget {
            tracing::warn!(vendor = %row.vendor, file = %row.file_name, "the firmware cache is full; image not fetched");
            continue;
        }
        budget -= row.size;
        keep.insert(path);
        if present(dir, row) {
            continue;
        }
        match download(client, dir, row) {
            Ok(()) => {
                fetched += 1;
                tracing::info!(vendor = %row.vendor, file = %row.file_name, size = row.size, "firmware cached");
            }
            Err(e) => tracing::warn!(error = %e, "firmware not cached"),
        }
    }
    // Evict images the inventory no longer lists.
    if let Ok(vendors) = std::fs::read_dir(dir) {
        for v in vendors.flatten() {
            if let Ok(files) = std::fs::read_dir(v.path()) {
                for f in files.flatten() {
                    let p = f.path();
                    if !keep.contains(&p) {
                        let _ = std::fs::remove_file(&p);
                    }
                }
            }
        }
    }
    fetched
}
