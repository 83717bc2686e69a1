// Package faultbackend wraps a pack.Backend to inject I/O errors, for
// tests of what the engines do when the disk under the packs fails (issue
// 11's EIO campaign). A Rule says which operation fails (Save, Load,
// ReadAt, Stat, List, Remove, Create, Write, Sync, Truncate, SyncObject),
// on which object (a name, or any), after how many matching calls, how
// many times, and with what probability (from a fixed seed, so that a
// failing run can be replayed). The injected error is an *fs.PathError
// naming the operation and the object (Where) around syscall.EIO, as the
// kernel's would be.
package faultbackend
