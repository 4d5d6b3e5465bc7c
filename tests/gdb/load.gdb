# GDB `load` through vFlashErase/vFlashWrite/vFlashDone, then check every section with qCRC.
load
compare-sections
x/4xw 0x08000000
