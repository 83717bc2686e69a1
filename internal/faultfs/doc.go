// Package faultfs mounts, for tests, a FUSE pass-through of a directory
// that answers chosen operations on chosen files with EIO: a disk that
// fails under a running program, which a tmpfs cannot give and which this
// kernel offers no device-mapper for.
//
// Mount mounts the pass-through (as root, with mount(2) itself: no
// fusermount is needed); Fail makes reads, writes or fsyncs of the files
// of a base name fail from then on, Clear heals the disk, Injected counts
// the errors given. The files named in Options.Direct are opened with
// FOPEN_DIRECT_IO, so that every read and write reaches the file system
// instead of the kernel's page cache and a fault is seen when it is set.
//
// It is built on github.com/hanwen/go-fuse/v2 (its loopback node, wrapped
// to hand out failing file handles).
package faultfs
