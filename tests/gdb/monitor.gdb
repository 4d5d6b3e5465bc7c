# After load.gdb: dispatcher commands through qRcmd.
monitor mdw 0x08000000 4
monitor help mdw
monitor nosuchcommand
