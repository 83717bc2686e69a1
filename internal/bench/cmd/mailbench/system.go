package main

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const dropCachesPath = "/proc/sys/vm/drop_caches"

// pageCache puts the page cache in the same state before every timed
// phase: with cold set, it syncs and drops the page cache, dentries and
// inodes (which needs a writable /proc/sys/vm/drop_caches, i.e. root
// outside a restricted container); otherwise it leaves caches warm.
type pageCache struct {
	cold bool
}

// canDropCaches reports whether the page cache can be dropped here.
func canDropCaches() bool {
	f, err := os.OpenFile(dropCachesPath, os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = f.WriteString("1")
	return err == nil
}

// settle prepares the caches for the next timed phase: it always writes
// dirty pages back (sync), so that no phase pays for the writeback of an
// earlier one, and drops the page cache when cold.
func (p pageCache) settle() error {
	syscall.Sync()
	if !p.cold {
		return nil
	}
	if err := os.WriteFile(dropCachesPath, []byte("3"), 0); err != nil {
		return fmt.Errorf("dropping the page cache: %w", err)
	}
	return nil
}

// describe says in the report what state the caches were in.
func (p pageCache) describe() string {
	if p.cold {
		return "cold: `sync; echo 3 > /proc/sys/vm/drop_caches` before every timed phase and every floor, so every figure includes reading the corpus, the repository and the tools' own caches from disk; right after the drop each peer's version command runs once, untimed, so that no tool pays for loading its own executable (the agent's is mapped by the running agent)"
	}
	return "warm: the corpus was read once before measuring and caches were never dropped, only `sync` before every timed phase so that no phase pays for an earlier one's writeback; every figure is a warm-cache figure (repositories were just written, so they are warm too)"
}

// machine describes the computer the benchmark ran on.
type machine struct {
	CPUs       int    `json:"cpus"`
	CPUModel   string `json:"cpu_model"`
	MemBytes   int64  `json:"mem_bytes"`
	Kernel     string `json:"kernel"`
	Device     string `json:"device"`
	Filesystem string `json:"filesystem"`
	DiskModel  string `json:"disk_model"`
	Rotational string `json:"rotational"`
	GoVersion  string `json:"go_version"`
}

func (m machine) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d CPUs", m.CPUs)
	if m.CPUModel != "" {
		fmt.Fprintf(&b, " (%s)", m.CPUModel)
	}
	fmt.Fprintf(&b, ", %.1f GB RAM, Linux %s", float64(m.MemBytes)/1e9, m.Kernel)
	disk := m.Device
	if m.DiskModel != "" {
		disk += " " + m.DiskModel
	}
	if m.Rotational != "" {
		disk += " (" + m.Rotational + ")"
	}
	fmt.Fprintf(&b, "; corpus and repositories on %s, %s", disk, m.Filesystem)
	fmt.Fprintf(&b, "; %s", m.GoVersion)
	return b.String()
}

// probeMachine gathers what it can about the machine and the filesystem
// holding dir; missing pieces stay empty.
func probeMachine(dir string) machine {
	m := machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.Join(strings.Fields(v), " ")
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				m.MemBytes = kb * 1024
			}
		}
	}
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		m.Kernel = utsString(u.Release[:])
	}
	m.Device, m.Filesystem = mountOf(dir)
	if dev := strings.TrimPrefix(m.Device, "/dev/"); dev != m.Device {
		base := blockBase(dev)
		if b, err := os.ReadFile("/sys/block/" + base + "/device/model"); err == nil {
			m.DiskModel = strings.TrimSpace(string(b))
		}
		if b, err := os.ReadFile("/sys/block/" + base + "/queue/rotational"); err == nil {
			switch strings.TrimSpace(string(b)) {
			case "0":
				m.Rotational = "queue/rotational=0"
			case "1":
				m.Rotational = "queue/rotational=1"
			}
		}
		if strings.HasPrefix(base, "vd") {
			m.DiskModel = strings.TrimSpace(m.DiskModel + " virtio block device (virtual machine)")
		}
	}
	return m
}

func utsString(cs []int8) string {
	b := make([]byte, 0, len(cs))
	for _, c := range cs {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

// blockBase maps a partition name to its disk: sda1 → sda, nvme0n1p2 →
// nvme0n1, vda → vda.
func blockBase(dev string) string {
	if _, err := os.Stat("/sys/block/" + dev); err == nil {
		return dev
	}
	if i := strings.LastIndex(dev, "p"); strings.HasPrefix(dev, "nvme") && i > 0 {
		return dev[:i]
	}
	return strings.TrimRight(dev, "0123456789")
}

// mountOf finds the device and filesystem type of the mount holding dir.
func mountOf(dir string) (device, fstype string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", ""
	}
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return "", ""
	}
	defer f.Close()
	best := -1
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 3 {
			continue
		}
		mp := strings.ReplaceAll(fl[1], `\040`, " ")
		if (abs == mp || strings.HasPrefix(abs, strings.TrimSuffix(mp, "/")+"/")) && len(mp) > best {
			best, device, fstype = len(mp), fl[0], fl[2]
		}
	}
	return device, fstype
}

// diskUsage is `du -s`: the bytes of disk blocks used by the files and
// directories under dir.
func diskUsage(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			total += st.Blocks * 512
		} else {
			total += info.Size()
		}
		return nil
	})
	return total, err
}

// clockTicks is USER_HZ, the unit of /proc/stat (100 on every Linux
// architecture Go supports).
const clockTicks = 100

// cpuBusy returns the CPU time the whole machine spent busy (everything
// but idle and iowait) since boot, from /proc/stat; 0 when unknown.
func cpuBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 7 { // guest and guest_nice are already in user and nice
			break
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * time.Second / clockTicks
}

// background measures, around one timed phase, the CPU that processes
// other than the tool under test used.
type background struct {
	start time.Duration
}

func startBackground() background { return background{start: cpuBusy()} }

// other returns the machine's busy CPU time since start minus the tool's
// own, never below zero.
func (b background) other(tool time.Duration) time.Duration {
	if b.start == 0 {
		return 0
	}
	return max(0, cpuBusy()-b.start-tool)
}

// waitQuiet waits, up to maxWait, until other processes use less than
// threshold of the machine's CPU over a two-second window (mailbench runs
// nothing meanwhile, so all busy time is theirs). It returns the last
// share measured and whether the machine was quiet.
func waitQuiet(ctx context.Context, maxWait time.Duration, threshold float64, cpus int, logf func(string, ...any)) (float64, bool) {
	const window = 2 * time.Second
	deadline := time.Now().Add(maxWait)
	logged := false
	for {
		b0, t0 := cpuBusy(), time.Now()
		select {
		case <-ctx.Done():
			return 0, false
		case <-time.After(window):
		}
		b1 := cpuBusy()
		if b0 == 0 || b1 == 0 || cpus <= 0 {
			return 0, true // cannot tell
		}
		share := (b1 - b0).Seconds() / (time.Since(t0).Seconds() * float64(cpus))
		if share < threshold {
			if logged {
				logf("the machine is quiet now (%.0f%% busy)", 100*share)
			}
			return share, true
		}
		if time.Now().After(deadline) {
			logf("the machine is still %.0f%% busy with other work after waiting %s; measuring anyway (see -quiet-wait)", 100*share, maxWait)
			return share, false
		}
		if !logged {
			logf("other processes keep the machine %.0f%% busy; waiting up to %s for it to calm down", 100*share, maxWait)
			logged = true
		}
	}
}
