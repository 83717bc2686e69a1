package reconcile

import "sync"

// DefaultParallelism is how many agents plan, apply and status contact at
// once unless told otherwise.
const DefaultParallelism = 10

// Parallel calls fn(i) for every i in [0, n), at most parallelism at a time
// (DefaultParallelism when not positive), and returns when all are done.
func Parallel(n, parallelism int, fn func(i int)) {
	if parallelism <= 0 {
		parallelism = DefaultParallelism
	}
	if parallelism > n {
		parallelism = n
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < parallelism; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}
