package bench

import (
	"fmt"
	"math"
	"sort"
)

// Sample is a set of measurements of one quantity.
type Sample []float64

func (s Sample) sorted() []float64 {
	c := append([]float64(nil), s...)
	sort.Float64s(c)
	return c
}

// Median is the middle value (the mean of the two middle ones for an even
// count); NaN when empty.
func (s Sample) Median() float64 {
	c := s.sorted()
	switch {
	case len(c) == 0:
		return math.NaN()
	case len(c)%2 == 1:
		return c[len(c)/2]
	default:
		return (c[len(c)/2-1] + c[len(c)/2]) / 2
	}
}

// Quantile is the nearest-rank q-quantile (0 < q <= 1); NaN when empty.
func (s Sample) Quantile(q float64) float64 {
	c := s.sorted()
	if len(c) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(q*float64(len(c)))) - 1
	return c[max(0, min(len(c)-1, i))]
}

// Min and Max bound the sample; NaN when empty.
func (s Sample) Min() float64 { return s.Quantile(0) }
func (s Sample) Max() float64 { return s.Quantile(1) }

// Spread formats "median (min–max)" with the given format for each.
func (s Sample) Spread(format string) string {
	if len(s) == 0 {
		return "n/a"
	}
	if len(s) == 1 {
		return fmt.Sprintf(format, s[0])
	}
	return fmt.Sprintf(format+" ("+format+"–"+format+")", s.Median(), s.Min(), s.Max())
}

// auto formats v with three significant digits, without exponents.
func auto(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "n/a"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// SpreadAuto is Spread with auto-formatted numbers.
func (s Sample) SpreadAuto() string {
	switch len(s) {
	case 0:
		return "n/a"
	case 1:
		return auto(s[0])
	}
	return auto(s.Median()) + " (" + auto(s.Min()) + "–" + auto(s.Max()) + ")"
}
