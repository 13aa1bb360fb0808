"""One ComponentResource per concept. Each takes documented args holding only what it uses (never the config
model), so it can be built and tested on its own; `mapgate.stack.build()` wires them together."""
