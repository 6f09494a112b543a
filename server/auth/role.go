package auth

import "github.com/cabincare/cabincare/syncproto"

// Role is what a person on the ground may do. Each role can do everything
// the roles below it can.
type Role string

// The roles, from least to most trusted.
const (
	// RoleAgent works enquiries: intake, assignment, notes, replies,
	// closing, and reads the queue and the team's headline figures.
	RoleAgent Role = "agent"
	// RoleSupervisor also reassigns an enquiry from one flight to
	// another, force-closes, and sees every agent's figures.
	RoleSupervisor Role = "supervisor"
	// RoleAdmin also manages users, API tokens, devices, templates and
	// crew, and reads the audit log. The bootstrap admin token is an admin.
	RoleAdmin Role = "admin"
)

// Roles lists every role, least trusted first.
var Roles = []Role{RoleAgent, RoleSupervisor, RoleAdmin}

func (r Role) rank() int {
	switch r {
	case RoleAgent:
		return 1
	case RoleSupervisor:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// Allows reports whether someone with role r may do what needs role need.
// An unknown role allows nothing.
func (r Role) Allows(need Role) bool { return r.rank() > 0 && r.rank() >= need.rank() }

// ParseRole returns the role named s, or an invalid error.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", syncproto.Errorf(syncproto.CodeInvalid, "role must be agent, supervisor or admin, not %q", s)
	}
	return r, nil
}
