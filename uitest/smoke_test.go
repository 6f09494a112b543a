package uitest

import (
	"testing"
	"time"
)

// Ensure the crew app and the console load, show their main screen and
// report no errors at every size.
func TestPagesLoad(t *testing.T) {
	g, _, c := assignedOnTablet(t, "tablet-1")
	b := newBrowser(t)

	crew := newPage(t, b, "crew")
	crew.openCrew(c, "/")
	crew.waitText(10*time.Second, "main", "Anna de Vries")
	for _, v := range allViewports {
		crew.layout(v, "list", true)
	}

	con := newPage(t, b, "console")
	con.open(g.url() + "/#token=" + adminToken)
	con.waitText(10*time.Second, "#queue-list", "Anna de Vries")
	for _, v := range allViewports {
		con.layout(v, "queue", false)
	}
}
