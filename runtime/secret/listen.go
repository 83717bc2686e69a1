package secret

import (
	"context"
	"fmt"
	"net"
	"time"
)

// CheckListen refuses a plain TCP listener (network "tcp", without TLS)
// unless its host is a loopback address: a literal one (127.0.0.0/8,
// ::1) or a name whose every address is one (localhost). An empty or
// unspecified host (":7443", "0.0.0.0", "[::]") listens on every
// interface and is refused. Unix sockets and TLS listeners pass. what
// names the listener in the message ("-listen tcp://0.0.0.0:7443").
func CheckListen(network, address string, tls bool, what string) error {
	if network != "tcp" || tls {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%s: %v", what, err)
	}
	if !loopback(host) {
		return fmt.Errorf("%s: plain TCP, without TLS, is refused except on a loopback address (127.0.0.1, ::1, localhost), since tokens would cross the network in clear: add a TLS certificate and key, or listen on a unix socket or a loopback address", what)
	}
	return nil
}

// loopback reports whether every address of host is a loopback address.
func loopback(host string) bool {
	if host == "" {
		return false
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		if !a.IP.IsLoopback() {
			return false
		}
	}
	return true
}
