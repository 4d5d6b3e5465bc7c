//! Non-volatile state on disk: main flash, option bytes, and (G4/L4) the
//! option words and the OTP area of one chip.
//!
//! File format (little endian), version 1 (`b"STDBGNV1"`, what every chip
//! without option words or OTP, e.g. the F1, still writes): magic, chip-name
//! length (u8) and name (ASCII, e.g. `STM32F103C8`), flash size (u32, bytes),
//! the 16 option bytes, the flash content, and a 64-bit FNV-1a checksum of
//! everything before it.
//! Version 2 (`b"STDBGNV2"`, chips with option words or OTP: G4/L4, H7): the same up to
//! and including the flash content, then an extension section: option-word
//! count (u32) and the words (u32 each), OTP length (u32, bytes) and the OTP
//! bytes; then the checksum. Both versions load; a version-1 file of a G4/L4
//! chip (written before its flash controller existed) gets factory option
//! words and an erased OTP (`NvMem::fill_missing`).
//! Files are written to `<path>.tmp` and renamed, so a crash never leaves a
//! half-written image behind. The path is chosen by the host.

use std::path::Path;

use super::nvmem::NvMem;
use super::{ChipModel, SimError};

const MAGIC_V1: &[u8; 8] = b"STDBGNV1";
const MAGIC_V2: &[u8; 8] = b"STDBGNV2";
/// Bounds for the extension section (the largest family needs 11 words and 1 KiB).
const MAX_OPT_WORDS: usize = 64;
const MAX_OTP: usize = 64 * 1024;

fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
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
    if data.len() < MAGIC_V1.len() + 1 + 4 + 16 + 8 {
        return Err(corrupt("missing STDBGNV1 header"));
    }
    let v2 = match &data[..8] {
        m if m == MAGIC_V1 => false,
        m if m == MAGIC_V2 => true,
        _ => return Err(corrupt("missing STDBGNV1 header")),
    };
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
    let size = u32_at(body, name_end).ok_or_else(|| corrupt("size"))? as usize;
    if size != model.flash_size() {
        return Err(corrupt(&format!(
            "flash size {size} bytes, expected {}",
            model.flash_size()
        )));
    }
    let opt_start = name_end + 4;
    let flash_start = opt_start + 16;
    let flash_end = flash_start + size;
    let short = || {
        corrupt(&format!(
            "file holds {} flash bytes, expected {size}",
            body.len().saturating_sub(flash_start)
        ))
    };
    if body.len() < flash_end || (!v2 && body.len() != flash_end) {
        return Err(short());
    }
    let mut opt = [0u8; 16];
    opt.copy_from_slice(&body[opt_start..flash_start]);
    let mut nv = NvMem::blank(0, opt);
    nv.flash = body[flash_start..flash_end].to_vec();
    if v2 {
        let ext = || corrupt("truncated extension section (option words, OTP)");
        let mut at = flash_end;
        let n = u32_at(body, at).ok_or_else(ext)? as usize;
        at += 4;
        if n > MAX_OPT_WORDS || body.len() < at + 4 * n + 4 {
            return Err(ext());
        }
        nv.opt_words = (0..n)
            .map(|i| u32_at(body, at + 4 * i).unwrap_or(u32::MAX))
            .collect();
        at += 4 * n;
        let otp_len = u32_at(body, at).ok_or_else(ext)? as usize;
        at += 4;
        if otp_len > MAX_OTP || body.len() != at + otp_len {
            return Err(ext());
        }
        nv.otp = body[at..].to_vec();
    }
    Ok(Some(nv))
}

/// Writes the image atomically (temporary file + rename): version 1 when
/// the chip has neither option words nor OTP, else version 2.
pub(crate) fn save(path: &Path, model: ChipModel, nv: &NvMem) -> Result<(), SimError> {
    let name = model.name().as_bytes();
    let v2 = !nv.opt_words.is_empty() || !nv.otp.is_empty();
    let mut out = Vec::with_capacity(
        8 + 1
            + name.len()
            + 4
            + 16
            + nv.flash.len()
            + 8
            + 8
            + 4 * nv.opt_words.len()
            + nv.otp.len(),
    );
    out.extend_from_slice(if v2 { MAGIC_V2 } else { MAGIC_V1 });
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    out.extend_from_slice(&(nv.flash.len() as u32).to_le_bytes());
    out.extend_from_slice(&nv.opt);
    out.extend_from_slice(&nv.flash);
    if v2 {
        out.extend_from_slice(&(nv.opt_words.len() as u32).to_le_bytes());
        for w in &nv.opt_words {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&(nv.otp.len() as u32).to_le_bytes());
        out.extend_from_slice(&nv.otp);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("stdbg-storage-{}-{name}", std::process::id()))
    }

    #[test]
    fn version2_round_trip_keeps_option_words_and_otp() {
        let model = ChipModel::Stm32l476rg;
        let mut nv = NvMem::blank(model.flash_size(), [0xFF; 16]);
        nv.flash[5] = 0x42;
        nv.opt_words = vec![0xFFEF_F8BB, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        nv.otp = vec![0xFF; 1024];
        nv.otp[3] = 0x11;
        let p = tmp("v2");
        save(&p, model, &nv).unwrap();
        assert_eq!(&std::fs::read(&p).unwrap()[..8], MAGIC_V2);
        let back = load(&p, model).unwrap().unwrap();
        assert_eq!(back.flash, nv.flash);
        assert_eq!(back.opt_words, nv.opt_words);
        assert_eq!(back.otp, nv.otp);
        // A truncated extension is reported, not taken.
        let mut data = std::fs::read(&p).unwrap();
        data.truncate(data.len() - 8 - 10);
        let sum = fnv1a(&data);
        data.extend_from_slice(&sum.to_le_bytes());
        std::fs::write(&p, &data).unwrap();
        assert!(matches!(
            load(&p, model),
            Err(SimError::StorageCorrupt { .. })
        ));
        let _ = std::fs::remove_file(&p);
    }

    #[test]
    fn version1_files_still_load_and_f1_still_writes_version1() {
        let model = ChipModel::Stm32f103c8;
        let mut nv = NvMem::blank(model.flash_size(), [0xA5; 16]);
        nv.flash[0] = 7;
        let p = tmp("v1");
        save(&p, model, &nv).unwrap();
        assert_eq!(&std::fs::read(&p).unwrap()[..8], MAGIC_V1);
        let back = load(&p, model).unwrap().unwrap();
        assert_eq!((back.flash[0], back.opt), (7, [0xA5; 16]));
        assert!(back.opt_words.is_empty() && back.otp.is_empty());
        // A version-1 file of an L476 (written before its flash controller
        // existed) loads; the chip completes it with factory values.
        let l4 = ChipModel::Stm32l476rg;
        save(&p, l4, &NvMem::blank(l4.flash_size(), [0xFF; 16])).unwrap();
        let mut old = load(&p, l4).unwrap().unwrap();
        let mut factory = NvMem::blank(0, [0xFF; 16]);
        factory.opt_words = vec![1; 11];
        factory.otp = vec![0xFF; 1024];
        old.fill_missing(&factory);
        assert_eq!((old.opt_words.len(), old.otp.len()), (11, 1024));
        let _ = std::fs::remove_file(&p);
    }
}
