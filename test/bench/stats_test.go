package bench

import (
	"math"
	"testing"
)

func TestSample(t *testing.T) {
	s := Sample{5, 1, 3, 2, 4}
	if s.Median() != 3 || s.Min() != 1 || s.Max() != 5 || s.Quantile(0.99) != 5 || s.Quantile(0.5) != 3 {
		t.Fatalf("median %v min %v max %v p99 %v p50 %v", s.Median(), s.Min(), s.Max(), s.Quantile(0.99), s.Quantile(0.5))
	}
	if m := (Sample{1, 2, 3, 4}).Median(); m != 2.5 {
		t.Fatalf("even median = %v", m)
	}
	if e := (Sample{}); !math.IsNaN(e.Median()) || e.Spread("%.1f") != "n/a" {
		t.Fatal("empty sample")
	}
	if got := s.Spread("%.0f"); got != "3 (1–5)" {
		t.Fatalf("spread = %q", got)
	}
}
