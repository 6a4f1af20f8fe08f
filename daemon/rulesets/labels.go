package rulesets

import "strings"

// checkLabelKey applies Kubernetes' rules for label keys: an optional DNS
// subdomain prefix and a slash, then a name of at most 63 characters.
// It returns "" when the key is valid, else what to fix.
func checkLabelKey(k string) string {
	name := k
	if i := strings.LastIndex(k, "/"); i >= 0 {
		prefix := k[:i]
		name = k[i+1:]
		if prefix == "" || len(prefix) > 253 || !dnsSubdomain(prefix) {
			return "the prefix before '/' must be a DNS subdomain like example.com (lowercase, at most 253 characters)"
		}
	}
	if name == "" {
		return "the name part must not be empty"
	}
	if len(name) > 63 {
		return "the name part must be at most 63 characters"
	}
	if !labelChars(name) {
		return "use letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
	}
	return ""
}

// checkLabelValue applies Kubernetes' rules for label values.
func checkLabelValue(v string) string {
	if v == "" {
		return ""
	}
	if len(v) > 63 {
		return "label values must be at most 63 characters"
	}
	if !labelChars(v) {
		return "use letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
	}
	return ""
}

func labelChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if alnum {
			continue
		}
		if (c != '-' && c != '_' && c != '.') || i == 0 || i == len(s)-1 {
			return false
		}
	}
	return true
}

func dnsSubdomain(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if part == "" || len(part) > 63 || part[0] == '-' || part[len(part)-1] == '-' {
			return false
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
