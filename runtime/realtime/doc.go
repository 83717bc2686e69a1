// Package realtime is the realtime scanner: it follows every change of the
// mail store as it happens (inotify through fsnotify) and records it in the
// repository within about a second.
//
// Events are not interpreted one by one: each marks its account dirty, and
// after a short settling time the dirty accounts are rescanned by the
// SmartScan engine (which never reads an unchanged message, and recognises
// renames and moves without reading) and committed in one transaction. A
// delivery, a flag change (a rename), a move, a deletion, a new or deleted
// folder or account all end up recorded the same way, and a burst of
// changes costs one rescan per account. When events are lost (a kernel
// queue overflow, an error) every account is rescanned; when the inotify
// watch limit is reached the status says so and names the limit to raise.
//
// The store must have the store.DirWatcher capability: its driver names
// the directories where accounts appear and those of each account, and the
// scanner watches them.
package realtime
