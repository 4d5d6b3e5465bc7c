//! Non-volatile state on disk: main flash and option bytes of one chip.
//!
//! File format (little endian): magic `b"STDBGNV1"`, chip-name length (u8) and
//! name (ASCII, e.g. `STM32F103C8`), flash size (u32, bytes), the 16 option
//! bytes, the flash content, and a 64-bit FNV-1a checksum of everything
//! before it. Files are written to `<path>.tmp` and renamed, so a crash never
//! leaves a half-written image behind. The path is chosen by the host.

use std::path::Path;

use super::nvmem::NvMem;
use super::{ChipModel, SimError};

const MAGIC: &[u8; 8] = b"STDBGNV1";

fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Reads the image for `model`; `Ok(None)` when the file does not exist yet.
pub(crate) fn load(path: &Path, model: ChipModel) -> Result<Option<NvMem>, SimError> {
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SimError::StorageIo {
                path: path.to_owned(),
                source,
            });
        }
    };
    let corrupt = |reason: &str| SimError::StorageCorrupt {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    if data.len() < MAGIC.len() + 1 + 4 + 16 + 8 || &data[..8] != MAGIC {
        return Err(corrupt("missing STDBGNV1 header"));
    }
    let (body, sum) = data.split_at(data.len() - 8);
    if fnv1a(body) != u64::from_le_bytes(sum.try_into().map_err(|_| corrupt("short checksum"))?) {
        return Err(corrupt("checksum mismatch"));
    }
    let name_len = body[8] as usize;
    let name_end = 9 + name_len;
    if body.len() < name_end + 4 + 16 {
        return Err(corrupt("truncated header"));
    }
    let name = String::from_utf8_lossy(&body[9..name_end]).into_owned();
    if ChipModel::from_name(&name) != Some(model) {
        return Err(SimError::StorageWrongChip {
            path: path.to_owned(),
            found: name,
            expected: model.name(),
        });
    }
    let size = u32::from_le_bytes(
        body[name_end..name_end + 4]
            .try_into()
            .map_err(|_| corrupt("size"))?,
    ) as usize;
    if size != model.flash_size() {
        return Err(corrupt(&format!(
            "flash size {size} bytes, expected {}",
            model.flash_size()
        )));
    }
    let opt_start = name_end + 4;
    let flash_start = opt_start + 16;
    if body.len() != flash_start + size {
        return Err(corrupt(&format!(
            "file holds {} flash bytes, expected {size}",
            body.len().saturating_sub(flash_start)
        )));
    }
    let mut opt = [0u8; 16];
    opt.copy_from_slice(&body[opt_start..flash_start]);
    Ok(Some(NvMem {
        flash: body[flash_start..].to_vec(),
        opt,
        dirty: false,
    }))
}

/// Writes the image atomically (temporary file + rename).
pub(crate) fn save(path: &Path, model: ChipModel, nv: &NvMem) -> Result<(), SimError> {
    let name = model.name().as_bytes();
    let mut out = Vec::with_capacity(8 + 1 + name.len() + 4 + 16 + nv.flash.len() + 8);
    out.extend_from_slice(MAGIC);
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    out.extend_from_slice(&(nv.flash.len() as u32).to_le_bytes());
    out.extend_from_slice(&nv.opt);
    out.extend_from_slice(&nv.flash);
    let sum = fnv1a(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let io = |source| SimError::StorageIo {
        path: path.to_owned(),
        source,
    };
    std::fs::write(&tmp, &out).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}
