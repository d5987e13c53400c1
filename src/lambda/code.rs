//! Function code as uploaded: `Code.ZipFile` is either a zip holding one
//! `.wasm` or the raw `.wasm` itself. Unpacks, checks sizes, compiles (off
//! the async runtime) and stores it content-addressed.

use std::io::Read;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::LambdaService;
use super::error::{LambdaError, LambdaResult};
use crate::function::CodeRef;
use crate::host::module::ModuleError;

/// Zipped package limit for direct upload.
const MAX_ZIP: usize = 50 * 1024 * 1024;
/// Unzipped limit.
const MAX_UNZIPPED: u64 = 262_144_000;
const WASM_MAGIC: &[u8] = b"\0asm";

/// Extracts the wasm module from an uploaded package. `handler` picks the
/// module when a zip holds several (`{handler}.wasm`).
pub fn unpack(package: &[u8], handler: Option<&str>) -> LambdaResult<Vec<u8>> {
    if package.starts_with(WASM_MAGIC) {
        return Ok(package.to_vec());
    }
    let bad_zip = || {
        LambdaError::invalid(
            "Could not unzip uploaded file. Please check your file, then try to upload again.",
        )
    };
    if !package.starts_with(b"PK") {
        return Err(bad_zip());
    }
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(package)).map_err(|_| bad_zip())?;
    let mut wasm_entries = Vec::new();
    let mut unzipped: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(|_| bad_zip())?;
        unzipped = unzipped.saturating_add(entry.size());
        if entry.is_file() && entry.name().ends_with(".wasm") {
            wasm_entries.push(entry.name().to_string());
        }
    }
    if unzipped > MAX_UNZIPPED {
        return Err(LambdaError::invalid(format!(
            "Unzipped size must be smaller than {MAX_UNZIPPED} bytes"
        )));
    }
    let chosen = match (wasm_entries.as_slice(), handler) {
        ([one], _) => one.clone(),
        ([], _) => {
            return Err(LambdaError::invalid(
                "The deployment package must contain a WebAssembly module (.wasm); none was found in the zip file.",
            ));
        }
        (many, Some(h)) => {
            let want = format!("{}.wasm", h.split('.').next().unwrap_or(h));
            many.iter()
                .find(|n| n.rsplit('/').next() == Some(want.as_str()))
                .cloned()
                .ok_or_else(|| {
                    LambdaError::invalid(format!(
                        "The zip file holds several .wasm modules and none is named {want} (from Handler)"
                    ))
                })?
        }
        (_, None) => {
            return Err(LambdaError::invalid(
                "The zip file holds several .wasm modules; set Handler to the one to run (handler name without .wasm)",
            ));
        }
    };
    let entry = archive.by_name(&chosen).map_err(|_| bad_zip())?;
    let mut wasm = Vec::with_capacity(entry.size().min(MAX_UNZIPPED) as usize);
    entry
        .take(MAX_UNZIPPED)
        .read_to_end(&mut wasm)
        .map_err(|_| bad_zip())?;
    Ok(wasm)
}

/// Decodes `ZipFile`, unpacks, compiles and stores the code.
pub async fn ingest(
    service: &Arc<LambdaService>,
    zip_b64: Option<&str>,
    handler: Option<&str>,
) -> LambdaResult<CodeRef> {
    let Some(b64) = zip_b64 else {
        return Err(LambdaError::invalid(
            "Portico takes function code as Code.ZipFile: a zip holding one .wasm module, or the raw .wasm bytes (S3 and container images are not supported)",
        ));
    };
    let package = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| LambdaError::invalid("Could not decode ZipFile: it must be base64"))?;
    if package.len() > MAX_ZIP {
        return Err(LambdaError::new(
            super::error::ErrorCode::RequestTooLarge,
            "Request must be smaller than 70167211 bytes for the CreateFunction operation",
        ));
    }
    let wasm = unpack(&package, handler)?;
    let package_sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&package));
    let package_size = package.len() as u64;
    let svc = service.clone();
    let (sha, shape) = tokio::task::spawn_blocking(move || {
        let (sha, prepared) = svc.host.modules.compile(&wasm).map_err(|e| match e {
            ModuleError::Invalid(m) => LambdaError::invalid(m),
            ModuleError::Internal(m) => LambdaError::internal(m),
        })?;
        svc.code.put(&wasm).map_err(LambdaError::internal)?;
        Ok::<_, LambdaError>((sha, prepared.shape))
    })
    .await
    .map_err(LambdaError::internal)??;
    Ok(CodeRef {
        wasm_sha256: sha,
        package_sha256,
        package_size,
        shape,
    })
}

/// `GetFunction`'s `Code.Location` points here.
pub async fn download(
    State(service): State<Arc<LambdaService>>,
    Path(sha): Path<String>,
) -> impl IntoResponse {
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(LambdaError::not_found("No such code"));
    }
    let bytes = service
        .code
        .get(&sha)
        .map_err(|_| LambdaError::not_found("No such code"))?;
    Ok(([(header::CONTENT_TYPE, "application/wasm")], bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut buf);
        for (name, data) in files {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
        buf.into_inner()
    }

    #[test]
    fn raw_wasm_passes_through() {
        assert_eq!(unpack(b"\0asm\x01\0\0\0", None).unwrap(), b"\0asm\x01\0\0\0");
    }

    #[test]
    fn zip_with_one_module() {
        let z = zip_of(&[("README", b"hi"), ("f.wasm", b"\0asmX")]);
        assert_eq!(unpack(&z, None).unwrap(), b"\0asmX");
    }

    #[test]
    fn zip_with_several_needs_handler() {
        let z = zip_of(&[("a.wasm", b"A"), ("b.wasm", b"B")]);
        assert!(unpack(&z, None).is_err());
        assert_eq!(unpack(&z, Some("b")).unwrap(), b"B");
    }

    #[test]
    fn garbage_is_refused() {
        assert!(unpack(b"hello", None).is_err());
        assert!(unpack(&zip_of(&[("x.txt", b"x")]), None).is_err());
    }
}
