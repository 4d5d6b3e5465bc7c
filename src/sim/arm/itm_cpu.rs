//! The core's loads and stores to the ITM (0xE000_0000–0xE000_0FFF),
//! executed by the wrapper: the processor model keeps the internal PPB to
//! itself and discards ITM accesses (`core.rs`), so the run loop looks at
//! each instruction while trace is possible (`run.rs`) and performs the
//! single-register loads and stores that address the ITM here, with the
//! access size, privilege and IT condition of the instruction.
//!
//! Encodings (ARMv7-M ARM §A5.2.4, §A5.3.10, §A6.7): 16-bit STR/LDR/STRB/
//! LDRB/STRH/LDRH (immediate) and the register-offset forms (with LDRSB/
//! LDRSH); 32-bit STR{B,H}/LDR{B,H,SB,SH} with imm12, with imm8 (offset,
//! pre- or post-indexed, writeback; the T variants are unprivileged) and
//! register offset with shift. Not handled (the processor executes them and
//! the ITM never sees them): LDM/STM, PUSH/POP, LDRD/STRD, exclusives.
//!
//! A store to DEMCR (0xE000_EDFC) makes the loop look at TRCENA again
//! before the next instruction, so a firmware's ITM setup right after it
//! setting TRCENA is seen.

use rsemu::cpu::arm::v7m::sys::control;

use super::super::chip::Chip;
use super::core::Cpu;
use super::itm::Source;
use super::vfp64;

/// Core cycles charged for an ITM load or store (Cortex-M3 TRM §18.2: 2).
const CYCLES: u64 = 2;
const DEMCR: u32 = 0xE000_EDFC;

/// One decoded single load or store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Access {
    addr: u32,
    size: u32,
    load: bool,
    signed: bool,
    rt: u8,
    /// Base register written back with this value.
    writeback: Option<(u8, u32)>,
    /// The instruction's length in bytes.
    len: u32,
    /// An unprivileged (LDRT/STRT) form.
    unpriv: bool,
}

/// Decodes the load or store at `pc` (first halfword `hw1`); `r` reads a
/// core register.
fn decode(hw1: u16, hw2: impl FnOnce() -> Option<u16>, r: impl Fn(u8) -> u32) -> Option<Access> {
    let h = hw1 as u32;
    let rt = (h & 7) as u8;
    let rn = ((h >> 3) & 7) as u8;
    let short = |addr, size, load, signed| Access {
        addr,
        size,
        load,
        signed,
        rt,
        writeback: None,
        len: 2,
        unpriv: false,
    };
    match h >> 11 {
        // 0101 opB Rm Rn Rt: register offset.
        0b01010 | 0b01011 => {
            let rm = ((h >> 6) & 7) as u8;
            let addr = r(rn).wrapping_add(r(rm));
            let (size, load, signed) = match (h >> 9) & 7 {
                0 => (4, false, false),
                1 => (2, false, false),
                2 => (1, false, false),
                3 => (1, true, true),
                4 => (4, true, false),
                5 => (2, true, false),
                6 => (1, true, false),
                _ => (2, true, true),
            };
            Some(short(addr, size, load, signed))
        }
        // 011 B L imm5 Rn Rt.
        0b01100..=0b01111 => {
            let byte = h & (1 << 12) != 0;
            let load = h & (1 << 11) != 0;
            let imm5 = (h >> 6) & 0x1F;
            let (size, off) = if byte { (1, imm5) } else { (4, imm5 * 4) };
            Some(short(r(rn).wrapping_add(off), size, load, false))
        }
        // 1000 L imm5 Rn Rt: halfword.
        0b10000 | 0b10001 => {
            let load = h & (1 << 11) != 0;
            let off = ((h >> 6) & 0x1F) * 2;
            Some(short(r(rn).wrapping_add(off), 2, load, false))
        }
        // 1111 100x: load/store single (32-bit).
        0b11111 if h >> 9 == 0b111_1100 => {
            let w2 = hw2()? as u32;
            let signed = h & (1 << 8) != 0;
            let load = h & (1 << 4) != 0;
            let size = match (h >> 5) & 3 {
                0 => 1,
                1 => 2,
                2 => 4,
                _ => return None,
            };
            if signed && (!load || size == 4) {
                return None;
            }
            let rn = (h & 0xF) as u8;
            let rt = (w2 >> 12) as u8;
            if rn == 15 || (load && rt == 15) {
                return None; // literal loads, PC loads and preload hints
            }
            let base = r(rn);
            let mut a = Access {
                addr: 0,
                size,
                load,
                signed,
                rt,
                writeback: None,
                len: 4,
                unpriv: false,
            };
            if h & (1 << 7) != 0 {
                a.addr = base.wrapping_add(w2 & 0xFFF);
            } else if w2 & (1 << 11) != 0 {
                let (p, u, w) = (w2 & (1 << 10) != 0, w2 & (1 << 9) != 0, w2 & (1 << 8) != 0);
                let imm8 = w2 & 0xFF;
                let off = if u {
                    base.wrapping_add(imm8)
                } else {
                    base.wrapping_sub(imm8)
                };
                a.addr = if p { off } else { base };
                a.unpriv = p && u && !w;
                if w {
                    a.writeback = Some((rn, off));
                }
                if !p && !w {
                    return None;
                }
            } else if (w2 >> 6) & 0x3F == 0 {
                let rm = (w2 & 0xF) as u8;
                a.addr = base.wrapping_add(r(rm) << ((w2 >> 4) & 3));
            } else {
                return None;
            }
            Some(a)
        }
        _ => None,
    }
}

/// A cheap look at the first halfword: whether the instruction can be one of
/// the loads or stores [`execute_at`] handles (the run loop asks before
/// every instruction).
#[inline(always)]
pub(crate) fn may_be_load_store(hw1: u16) -> bool {
    matches!(hw1 >> 11, 0b01010..=0b10001) || hw1 >> 9 == 0b111_1100
}

/// Whether `a` is in the ITM's 4 KiB.
#[inline]
fn in_itm(a: u32) -> bool {
    a & !0xFFF == 0xE000_0000
}

/// Executes the instruction at `pc` if it is a load or store to the ITM;
/// returns its cycles. A store to DEMCR marks the run mode dirty.
pub(crate) fn execute_at(chip: &mut Chip, pc: u32, hw1: u16) -> Option<u64> {
    let a = decode(
        hw1,
        || {
            chip.port
                .debug_read(pc.wrapping_add(2), 2)
                .ok()
                .map(|v| v as u16)
        },
        |n| chip.core.reg(n),
    )?;
    if !a.load && a.addr & !3 == DEMCR {
        chip.rl.mode_dirty = true;
        return None;
    }
    if !in_itm(a.addr) || !a.addr.is_multiple_of(a.size) {
        return None;
    }
    let mut regs = chip.core.regs();
    if !vfp64::it_condition_passed(regs.xpsr) {
        return None; // the processor skips it
    }
    let privileged = !a.unpriv && (regs.xpsr & 0x1FF != 0 || regs.control & control::NPRIV == 0);
    let src = Source::Cpu(privileged);
    if a.load {
        let v = chip.itm_access(a.addr, a.size, None, src);
        let v = match (a.size, a.signed) {
            (1, true) => v as u8 as i8 as i32 as u32,
            (2, true) => v as u16 as i16 as i32 as u32,
            _ => v,
        };
        regs.r[a.rt as usize] = v;
    } else {
        let v = regs.r[a.rt as usize];
        let v = match a.size {
            1 => v & 0xFF,
            2 => v & 0xFFFF,
            _ => v,
        };
        chip.itm_access(a.addr, a.size, Some(v), src);
    }
    if let Some((rn, v)) = a.writeback {
        regs.r[rn as usize] = v;
    }
    regs.r[15] = pc.wrapping_add(a.len);
    regs.xpsr = vfp64::it_advance(regs.xpsr);
    chip.core.set_regs(&regs);
    Some(CYCLES)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regs(n: u8) -> u32 {
        match n {
            0 => 0x41,
            1 => 0xE000_0000,
            2 => 4,
            _ => 0,
        }
    }

    #[test]
    fn decodes_the_forms_compilers_emit_for_itm_writes() {
        // strb r0, [r1]
        let a = decode(0x7008, || None, regs).unwrap();
        assert_eq!(
            (a.addr, a.size, a.load, a.rt, a.len),
            (0xE000_0000, 1, false, 0, 2)
        );
        // str r0, [r1, #4]
        let a = decode(0x6048, || None, regs).unwrap();
        assert_eq!((a.addr, a.size), (0xE000_0004, 4));
        // strh r0, [r1, #4]
        let a = decode(0x8088, || None, regs).unwrap();
        assert_eq!((a.addr, a.size), (0xE000_0004, 2));
        // ldr r3, [r1, r2]
        let a = decode(0x588B, || None, regs).unwrap();
        assert_eq!((a.addr, a.size, a.load, a.rt), (0xE000_0004, 4, true, 3));
        // str.w r0, [r1, #0xe80]
        let a = decode(0xF8C1, || Some(0x0E80), regs).unwrap();
        assert_eq!((a.addr, a.size, a.len), (0xE000_0E80, 4, 4));
        // strb.w r0, [r1, #-4]!  (imm8, P=1 U=0 W=1)
        let a = decode(0xF801, || Some(0x0D04), regs).unwrap();
        assert_eq!(a.addr, 0xDFFF_FFFC);
        assert_eq!(a.writeback, Some((1, 0xDFFF_FFFC)));
        // ldrsh.w r0, [r1, r2, lsl #2]
        let a = decode(0xF931, || Some(0x0022), regs).unwrap();
        assert_eq!((a.addr, a.size, a.signed), (0xE000_0010, 2, true));
        // strt r0, [r1, #8]: unprivileged
        assert!(decode(0xF841, || Some(0x0E08), regs).unwrap().unpriv);
        // Not loads or stores.
        assert_eq!(decode(0x4770, || None, regs), None); // bx lr
        assert_eq!(decode(0xB510, || None, regs), None); // push
    }
}
