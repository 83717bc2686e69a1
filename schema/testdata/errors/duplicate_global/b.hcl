# The second global block.
global {
  realtime_scanner = false
}
