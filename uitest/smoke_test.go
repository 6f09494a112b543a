package uitest

import (
	"testing"
	"time"
)

// Ensure the crew app and the console load, show their main screen and
// report no errors at every size.
func TestPagesLoad(t *testing.T) {
	g := startGround(t)
	s := seed(g)
	g.assign(s)
	c := startCabin(t, g, "tablet-1")
	c.api("PUT", "/flight", map[string]string{"flight_id": s.Flight}, 200, nil)
	b := newBrowser(t)

	crew := newPage(t, b, "crew")
	crew.open(c.url() + "/")
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
