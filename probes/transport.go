package probes

// Transport is how events travel from the kernel to the reader.
type Transport string

const (
	// TransportRingBuffer is one BPF ring buffer shared by all CPUs
	// (BPF_MAP_TYPE_RINGBUF, Linux 5.8+): events arrive in order.
	TransportRingBuffer Transport = "ring buffer"
	// TransportPerfBuffer is a perf event array with one buffer per CPU
	// (bpf_perf_event_output), the fallback for kernels before 5.8.
	// Events of different CPUs may arrive out of order.
	TransportPerfBuffer Transport = "perf buffer"
)
