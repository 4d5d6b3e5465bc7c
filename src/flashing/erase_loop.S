@ The erase loop of the lean flash path (src/flashing/lean.rs holds the assembled bytes as
@ ERASE_LOOP; tests/firmware_rebuild.rs checks they match this source): calls the flash
@ algorithm's EraseSector for `count` sectors of one size in a row, so the whole erase is one
@ run of the core instead of one per sector. The algorithm keeps r4-r9 (AAPCS callee-saved;
@ r9 is its static base).
@ Assemble: arm-none-eabi-as -mcpu=cortex-m3 -mthumb erase_loop.S -o erase_loop.o
    .syntax unified
    .cpu cortex-m3
    .thumb
    .text
    .global erase_loop
    .thumb_func
@ r4 = first sector address, r5 = sector size, r6 = count (> 0), r7 = EraseSector (Thumb bit
@ set), r8 = address of a progress word (the next sector's address is stored there after each
@ sector, through r1: r0 keeps the result). Ends at its BKPT with r0 = the last EraseSector
@ result (0: all erased, r4 = the end; else r4 is the sector that failed).
erase_loop:
1:  mov     r0, r4
    blx     r7
    cmp     r0, #0
    bne     2f
    adds    r4, r4, r5
    mov     r1, r8
    str     r4, [r1]
    subs    r6, #1
    bne     1b
2:  bkpt    #0
