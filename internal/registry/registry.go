package registry

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Registry holds values of one sort by name.
type Registry[T any] struct {
	// What names the sort in errors, e.g. "machinery".
	What string

	mu     sync.Mutex
	values map[string]T
}

// Add registers v under name. It panics on a duplicate, a programming error
// found at init.
func (r *Registry[T]) Add(name string, v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.values == nil {
		r.values = map[string]T{}
	}
	if _, dup := r.values[name]; dup {
		panic(fmt.Sprintf("%s %q registered twice", r.What, name))
	}
	r.values[name] = v
}

// Get returns the value registered under name, or an error that names the
// registered ones.
func (r *Registry[T]) Get(name string) (T, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.values[name]
	if !ok {
		return v, fmt.Errorf("unknown %s %q: want one of %s", r.What, name, strings.Join(r.namesLocked(), ", "))
	}
	return v, nil
}

// Names lists the registered names, sorted.
func (r *Registry[T]) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.namesLocked()
}

func (r *Registry[T]) namesLocked() []string {
	names := make([]string, 0, len(r.values))
	for n := range r.values {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
