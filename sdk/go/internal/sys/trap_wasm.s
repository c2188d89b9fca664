//go:build wasip1

#include "textflag.h"

// func trap()
TEXT ·trap(SB), NOSPLIT|NOFRAME, $0-0
	UNDEF
