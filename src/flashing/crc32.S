@ CRC-32/MPEG-2 over flash, run on the target by stdbg's verify (src/flashing/crc.rs holds the
@ assembled bytes as ROUTINE; tests/firmware_rebuild.rs checks they match this source).
@ Assemble: arm-none-eabi-as -mcpu=cortex-m3 -mthumb crc32.S -o crc32.o
    .syntax unified
    .cpu cortex-m3
    .thumb
    .text
    .global crc32
    .thumb_func
@ r0 = address, r1 = length in bytes, r2 = 16-word nibble table; returns the CRC in r0.
crc32:
    mov     r3, r0
    adds    r1, r1, r0
    mov     r0, #-1
1:  cmp     r3, r1
    bcs     2f
    ldrb    r4, [r3], #1
    lsrs    r5, r4, #4
    eor     r5, r5, r0, lsr #28
    ldr     r5, [r2, r5, lsl #2]
    eor     r0, r5, r0, lsl #4
    and     r4, r4, #15
    eor     r5, r4, r0, lsr #28
    ldr     r5, [r2, r5, lsl #2]
    eor     r0, r5, r0, lsl #4
    b       1b
2:  bkpt    #0
