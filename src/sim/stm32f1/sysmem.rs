//! System memory 0x1FFF_F000..0x1FFF_F800 (RM0008 §3.3.1, 2 KiB holding ST's
//! boot loader) with the device electronic signature: F_SIZE at 0x1FFF_F7E0
//! (16 bit, KiB, RM0008 §30.1) and the 96-bit unique ID at 0x1FFF_F7E8 (§30.2).
//! The boot loader itself is replaced by a stub: a vector table whose reset
//! handler is `b .` (the real ROM content is ST's property).

pub(crate) const BASE: u32 = 0x1FFF_F000;
pub(crate) const SIZE: u32 = 0x800;

/// The system-memory image for a chip with `flash_kib` KiB of flash.
pub(crate) fn image(flash_kib: u16) -> Vec<u8> {
    let mut m = vec![0u8; SIZE as usize];
    // Vector table: initial SP, reset handler at 0x1FFF_F021 (Thumb).
    m[0..4].copy_from_slice(&0x2000_0200u32.to_le_bytes());
    m[4..8].copy_from_slice(&0x1FFF_F021u32.to_le_bytes());
    // 0x1FFF_F020: b . (0xE7FE)
    m[0x20..0x22].copy_from_slice(&0xE7FEu16.to_le_bytes());
    // F_SIZE
    m[0x7E0..0x7E2].copy_from_slice(&flash_kib.to_le_bytes());
    m[0x7E2..0x7E8].fill(0xFF);
    // Unique device ID (96 bits): a fixed, plausible value.
    let uid: [u8; 12] = [0x33, 0xFF, 0x6B, 0x06, 0x4D, 0x4B, 0x35, 0x35, 0x28, 0x57, 0x12, 0x43];
    m[0x7E8..0x7F4].copy_from_slice(&uid);
    m[0x7F4..0x800].fill(0xFF);
    m
}
