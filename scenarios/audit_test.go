package scenarios_test

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/dynamic"

	"github.com/firedrill-dev/firedrill/drills"
	"github.com/firedrill-dev/firedrill/internal/audit"
)

// watchAttributed starts, for the rest of the drill, a watch of its own on
// the drill namespace that keeps what the API server attributes to the
// drill's field manager: the check that its audit log misses no write.
func watchAttributed(d *drills.Drill) *audit.Log {
	dyn, err := dynamic.NewForConfig(env.cluster.REST)
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	DeferCleanup(cancel)
	seen := &audit.Log{}
	audit.Attributed(ctx, dyn, d.Namespace, drills.AuditedResources, drills.AuditManager(d.ID), seen)
	return seen
}

// itKeepsEveryWrite is a drill's last spec: every create and update the API
// server attributes to the drill (its managedFields manager) is in the
// drill's audit log.
func itKeepsEveryWrite(d **drills.Drill, seen **audit.Log) {
	It("keeps every write the API server attributes to it in its audit log", func(ctx SpecContext) {
		// Watch events trail the writes by milliseconds.
		time.Sleep(time.Second)
		attributed := (*seen).Entries()
		Expect(attributed).NotTo(BeEmpty(), "the API server attributed no object to %s", drills.AuditManager((*d).ID))
		logged := map[string]bool{}
		for _, w := range (*d).AuditWrites() {
			logged[objectKey(w.Ref)] = true
		}
		var missing []string
		for _, e := range attributed {
			if e.Verb != "DELETED" && !logged[objectKey(e.Ref)] {
				missing = append(missing, fmt.Sprintf("%s %s (%s, rv %s)", e.Verb, e.Ref, e.Operation, e.RVAfter))
			}
		}
		Expect(missing).To(BeEmpty(), "writes the API server attributes to the drill, missing from its audit log")
	})
}

// objectKey names an object whatever subresource a write went through.
func objectKey(r audit.Ref) string {
	return r.Group + "/" + r.Resource + "/" + r.Namespace + "/" + r.Name
}
