//go:build unix

package op

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) the process has used; a
// benchmark reports it per op, which other load on the machine does not
// inflate as it does wall time.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
