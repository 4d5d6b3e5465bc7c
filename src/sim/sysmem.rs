//! System memory 0x1FFF_F000..0x1FFF_F800 (RM0008 §3.3.1, 2 KiB holding ST's
//! boot loader) with the device electronic signature: F_SIZE at 0x1FFF_F7E0
//! (16 bit, KiB, RM0008 §30.1) and the 96-bit unique ID at 0x1FFF_F7E8 (§30.2).
//! Other families place the block and the signature elsewhere (`family.rs`).
//! The boot loader itself is replaced by a stub: a vector table whose reset
//! handler is `b .` (the real ROM content is ST's property).

use super::family::Identity;

/// The system-memory image (boot loader stub, F_SIZE, UID) of a chip.
pub(crate) fn image(id: &Identity) -> Vec<u8> {
    let size = id.sysmem_size as usize;
    let mut m = vec![0u8; size];
    let base = id.sysmem_base;
    // Vector table: initial SP, reset handler at base + 0x20 (Thumb).
    m[0..4].copy_from_slice(&0x2000_0200u32.to_le_bytes());
    m[4..8].copy_from_slice(&(base + 0x21).to_le_bytes());
    // base + 0x20: b . (0xE7FE)
    m[0x20..0x22].copy_from_slice(&0xE7FEu16.to_le_bytes());
    let put = |m: &mut Vec<u8>, addr: u32, bytes: &[u8], pad: usize| {
        // On G4/L4 the signature lies beyond system memory, in the SoC's
        // information block (`stm32l4/soc.rs`).
        let off = addr.wrapping_sub(base) as usize;
        if off + bytes.len() > size {
            return;
        }
        m[off..off + bytes.len()].copy_from_slice(bytes);
        let end = (off + bytes.len() + pad).min(size);
        m[off + bytes.len()..end].fill(0xFF);
    };
    // Unique device ID (96 bits): a fixed, plausible value.
    let uid: [u8; 12] = [
        0x33, 0xFF, 0x6B, 0x06, 0x4D, 0x4B, 0x35, 0x35, 0x28, 0x57, 0x12, 0x43,
    ];
    put(&mut m, id.uid_addr, &uid, 12);
    let kib = (id.flash_size / 1024) as u16;
    put(&mut m, id.fsize_addr, &kib.to_le_bytes(), 6);
    m
}
