"""Day-2 operations on a deployed stack: `mapgate status` and what it reads (the stack output `statusTargets`)."""
