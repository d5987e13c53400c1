//! Content-addressed files: function code under `code/{sha256}.wasm`.
//! Files are written to a temporary name, synced, then renamed, so a crash
//! never leaves a truncated blob under its final name.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes `bytes` to `path` atomically (temp file + fsync + rename + dir sync).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The code directory.
#[derive(Clone)]
pub struct CodeStore {
    dir: PathBuf,
}

impl CodeStore {
    pub fn new(data_dir: &Path) -> CodeStore {
        CodeStore {
            dir: data_dir.join("code"),
        }
    }

    pub fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}.wasm"))
    }

    /// Stores `wasm` (idempotent) and returns its SHA-256 in hex.
    pub fn put(&self, wasm: &[u8]) -> std::io::Result<String> {
        let sha = sha256_hex(wasm);
        let path = self.path(&sha);
        if !path.exists() {
            write_atomic(&path, wasm)?;
        }
        Ok(sha)
    }

    pub fn get(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.path(sha256))
    }
}
