package api

import (
	"context"
	"crypto/subtle"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/cabincare/cabincare/jsonapi"
	"github.com/cabincare/cabincare/server/auth"
	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

// The browser side of a session: the session cookie carries the bearer
// token (HttpOnly, so scripts never see it), and the CSRF cookie carries a
// second random value that the console's script copies into the
// X-CSRF-Token header of every unsafe request. A cross-site page can make
// the browser send the cookies but can neither read the CSRF cookie nor
// set the header, so the double submit proves the request came from our
// own page. SameSite=Strict is a second, independent barrier.
const (
	SessionCookie = "cabincare_session"
	CSRFCookie    = "cabincare_csrf"
	CSRFHeader    = "X-CSRF-Token"
)

// Principal is who is calling: a user (by session or API token) or the
// bootstrap admin token.
type Principal struct {
	Username string
	Role     auth.Role
	// Via is how the caller proved it: "admin-token", "session" (bearer),
	// "cookie" (session cookie + CSRF header) or "api" (an API token).
	Via       string
	TokenHash []byte // of the session or API token; nil for the admin token
}

// Who names the principal in the audit log.
func (p Principal) Who() string {
	if p.Via == "admin-token" {
		return "admin-token"
	}
	return "user:" + p.Username
}

func principal(c echo.Context) Principal {
	p, _ := c.Get("principal").(Principal)
	return p
}

// remote is the peer's address as the socket saw it. Forwarded headers are
// not trusted: a client could name any address in them and dodge the
// per-address limits.
func remote(c echo.Context) string {
	host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
	if err != nil {
		return c.Request().RemoteAddr
	}
	return host
}

func (a *API) audit(ctx context.Context, e store.AuditEvent) {
	if err := a.Store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		// The refusal or the change it records stands; losing its trace
		// is an operational problem to see in the log, not the client's.
		a.Log.Error("audit append failed", "kind", e.Kind, "err", err)
	}
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// authenticate resolves the caller and applies the route's role. A route
// registered without a role is refused for everyone (fail closed), so a
// new route cannot be left open by forgetting it.
func (a *API) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		need, known := a.roles[c.Request().Method+" "+c.Path()]
		if !known && c.Path() != "/api/v1" && c.Path() != "/api/v1/*" {
			a.Log.Error("route without a role refused", "method", c.Request().Method, "path", c.Path())
			return syncproto.Errorf(syncproto.CodeForbidden, "this route has no role assigned")
		}
		p, err := a.resolve(c)
		if err != nil {
			return err
		}
		c.Set("principal", p)
		if known && !p.Role.Allows(need) {
			a.audit(c.Request().Context(), store.AuditEvent{Kind: store.AuditForbidden, Actor: p.Who(), Subject: c.Request().Method + " " + c.Path(), Remote: remote(c), Code: syncproto.CodeForbidden, Detail: "role " + string(p.Role) + " needs " + string(need)})
			return syncproto.Errorf(syncproto.CodeForbidden, "this needs the %s role", need)
		}
		name := p.Username
		if p.Via == "admin-token" {
			// Automation and the first set-up share the bootstrap token;
			// X-Agent names the person or job behind it in histories.
			name = strings.TrimSpace(c.Request().Header.Get("X-Agent"))
			if len(name) > syncproto.MaxShortLen || !utf8.ValidString(name) {
				return syncproto.Errorf(syncproto.CodeInvalid, "X-Agent must be a name of at most %d bytes", syncproto.MaxShortLen)
			}
			c.Set("actor", syncproto.Actor{Type: syncproto.ActorAgent, ID: "admin", Name: name})
		} else {
			c.Set("actor", syncproto.Actor{Type: syncproto.ActorAgent, ID: p.Username, Name: name})
		}
		return next(c)
	}
}

// resolve finds the principal from the bearer token or the session cookie.
// Bearer tokens are 256-bit random, so guessing them is hopeless and a bad
// one is not rate-limited (that would let one noisy client behind an
// office NAT lock every agent out); but a failure is audited, at most
// AddrFailures times per address per window, so a flood cannot fill the
// log.
func (a *API) resolve(c echo.Context) (Principal, error) {
	p, err := a.credentials(c)
	if err != nil && syncproto.ErrorCode(err) == syncproto.CodeUnauthorized {
		ip := remote(c)
		if ok, _ := a.tokenAuditLimit.Allow(ip); ok {
			a.tokenAuditLimit.Fail(ip)
			a.audit(c.Request().Context(), store.AuditEvent{Kind: store.AuditAuthFailed, Actor: "anonymous", Subject: c.Request().Method + " " + c.Path(), Remote: ip, Code: syncproto.CodeUnauthorized, Detail: syncproto.ErrorMessage(err)})
		}
	}
	return p, err
}

func (a *API) credentials(c echo.Context) (Principal, error) {
	r := c.Request()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" { // the scheme is case-insensitive (RFC 9110)
			return Principal{}, syncproto.Errorf(syncproto.CodeUnauthorized, "an Authorization: Bearer token is required")
		}
		if a.AdminToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(a.AdminToken)) == 1 {
			return Principal{Username: "admin", Role: auth.RoleAdmin, Via: "admin-token"}, nil
		}
		hash := auth.HashToken(token)
		t, u, err := a.Store.TokenUser(r.Context(), hash, a.Now())
		if err != nil {
			return Principal{}, err
		}
		via := "session"
		if t.Kind == store.TokenAPI {
			via = "api"
		}
		return Principal{Username: u.Username, Role: u.Role, Via: via, TokenHash: hash}, nil
	}
	ck, err := r.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return Principal{}, syncproto.Errorf(syncproto.CodeUnauthorized, "sign in, or send an Authorization: Bearer token")
	}
	hash := auth.HashToken(ck.Value)
	t, u, err := a.Store.TokenUser(r.Context(), hash, a.Now())
	if err != nil {
		return Principal{}, err
	}
	if t.Kind != store.TokenSession {
		return Principal{}, syncproto.Errorf(syncproto.CodeUnauthorized, "the cookie does not hold a session")
	}
	if unsafeMethod(r.Method) {
		got := r.Header.Get(CSRFHeader)
		if got == "" || subtle.ConstantTimeCompare(auth.HashToken(got), t.CSRFHash) != 1 {
			return Principal{}, syncproto.Errorf(syncproto.CodeForbidden, "a cookie-authenticated %s needs the %s header (the value of the %s cookie)", r.Method, CSRFHeader, CSRFCookie)
		}
	}
	return Principal{Username: u.Username, Role: u.Role, Via: "cookie", TokenHash: hash}, nil
}

// requireRole refuses a caller whose role does not allow need; handlers use
// it where the same route needs more for some requests (a reassignment, a
// forced close, every agent's figures).
func (a *API) requireRole(c echo.Context, need auth.Role, what string) error {
	p := principal(c)
	if p.Role.Allows(need) {
		return nil
	}
	a.audit(c.Request().Context(), store.AuditEvent{Kind: store.AuditForbidden, Actor: p.Who(), Subject: c.Request().Method + " " + c.Path(), Remote: remote(c), Code: syncproto.CodeForbidden, Detail: what + " needs " + string(need)})
	return syncproto.Errorf(syncproto.CodeForbidden, "%s needs the %s role", what, need)
}

// Login.

// UserView is a user as the API shows it (never the hash).
type UserView struct {
	Username  string    `json:"username"`
	Role      auth.Role `json:"role"`
	Disabled  bool      `json:"disabled,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

func userView(u *store.User) UserView {
	return UserView{Username: u.Username, Role: u.Role, Disabled: u.Disabled, CreatedAt: u.CreatedAt}
}

func (a *API) login(c echo.Context) error {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	ctx, ip := c.Request().Context(), remote(c)
	refuse := func(code, detail string) error {
		a.audit(ctx, store.AuditEvent{Kind: store.AuditLoginFailed, Actor: in.Username, Subject: in.Username, Remote: ip, Code: code, Detail: detail})
		if code == syncproto.CodeRateLimited {
			return syncproto.Errorf(code, "too many failed sign-ins; wait and try again")
		}
		return syncproto.Errorf(syncproto.CodeUnauthorized, "wrong username or password")
	}
	if len(in.Username) > syncproto.MaxShortLen || len(in.Password) > auth.MaxPassword {
		return refuse(syncproto.CodeUnauthorized, "oversized credentials")
	}
	// Both limits are checked before any password work, so a guesser
	// learns nothing and costs us no argon2 time once limited.
	if ok, _ := a.loginAccountLimit.Allow(in.Username); !ok {
		return refuse(syncproto.CodeRateLimited, "account limit")
	}
	if ok, _ := a.addrLimit.Allow(ip); !ok {
		return refuse(syncproto.CodeRateLimited, "address limit")
	}
	u, err := a.Store.User(ctx, in.Username)
	if err != nil && syncproto.ErrorCode(err) != syncproto.CodeNotFound {
		return err
	}
	good := false
	if u == nil {
		auth.BurnVerify(in.Password) // same time as a wrong password
	} else if good, err = auth.VerifyPassword(u.PasswordHash, in.Password); err != nil {
		return err
	}
	if !good || u.Disabled {
		a.loginAccountLimit.Fail(in.Username)
		a.addrLimit.Fail(ip)
		detail := "wrong password"
		switch {
		case u == nil:
			detail = "unknown user"
		case good:
			detail = "account disabled"
		}
		return refuse(syncproto.CodeUnauthorized, detail)
	}
	token, csrf := auth.NewToken(), auth.NewToken()
	hash := auth.HashToken(token)
	expires := a.Now().UTC().Add(a.SessionTTL)
	t := store.Token{Kind: store.TokenSession, Username: u.Username, CreatedAt: a.Now().UTC(), ExpiresAt: expires, CSRFHash: auth.HashToken(csrf)}
	if err := a.Store.PutToken(ctx, hash, &t); err != nil {
		return err
	}
	a.audit(ctx, store.AuditEvent{Kind: store.AuditLogin, Actor: "user:" + u.Username, Subject: u.Username, Remote: ip, Detail: "session " + t.ID})
	secure := c.Request().TLS != nil
	c.SetCookie(&http.Cookie{Name: SessionCookie, Value: token, Path: "/", Expires: expires, HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
	c.SetCookie(&http.Cookie{Name: CSRFCookie, Value: csrf, Path: "/", Expires: expires, Secure: secure, SameSite: http.SameSiteStrictMode})
	return c.JSON(http.StatusOK, map[string]any{"token": token, "csrf_token": csrf, "expires_at": expires, "user": map[string]any{"username": u.Username, "role": u.Role}})
}

func (a *API) logout(c echo.Context) error {
	p := principal(c)
	if p.TokenHash != nil {
		if err := a.Store.DeleteToken(c.Request().Context(), p.TokenHash); err != nil {
			return err
		}
	}
	a.audit(c.Request().Context(), store.AuditEvent{Kind: store.AuditLogout, Actor: p.Who(), Subject: p.Username, Remote: remote(c)})
	for _, name := range []string{SessionCookie, CSRFCookie} {
		c.SetCookie(&http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: name == SessionCookie, Secure: c.Request().TLS != nil, SameSite: http.SameSiteStrictMode})
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) me(c echo.Context) error {
	p := principal(c)
	return c.JSON(http.StatusOK, map[string]any{"username": p.Username, "role": p.Role, "via": p.Via})
}

// Users.

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,62}$`)

func checkPassword(pw string) error {
	if n := utf8.RuneCountInString(pw); n < auth.MinPassword || len(pw) > auth.MaxPassword {
		return syncproto.Errorf(syncproto.CodeInvalid, "password must be %d to %d characters", auth.MinPassword, auth.MaxPassword)
	}
	return nil
}

func (a *API) createUser(c echo.Context) error {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Role     string `json:"role"`
	}
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	if !usernameRE.MatchString(in.Username) {
		return syncproto.Errorf(syncproto.CodeInvalid, "username must be 2 to 63 of a-z, 0-9, '.', '_', '-', starting with a letter or digit")
	}
	if in.Username == "admin" {
		return syncproto.Errorf(syncproto.CodeInvalid, "username admin is kept for the bootstrap token")
	}
	role, err := auth.ParseRole(in.Role)
	if err != nil {
		return err
	}
	if err := checkPassword(in.Password); err != nil {
		return err
	}
	now := a.Now().UTC()
	u := store.User{Username: in.Username, Role: role, PasswordHash: auth.HashPassword(in.Password, a.PasswordParams), CreatedAt: now, UpdatedAt: now}
	if err := a.Store.CreateUser(c.Request().Context(), &u); err != nil {
		return err
	}
	a.audit(c.Request().Context(), store.AuditEvent{Kind: store.AuditUserCreated, Actor: principal(c).Who(), Subject: u.Username, Remote: remote(c), Detail: "role " + string(role)})
	return c.JSON(http.StatusCreated, userView(&u))
}

func (a *API) listUsers(c echo.Context) error {
	us, err := a.Store.Users(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]UserView, len(us))
	for i := range us {
		out[i] = userView(&us[i])
	}
	return c.JSON(http.StatusOK, map[string]any{"users": out})
}

// updateUser changes a user's role, password or disabled flag. Any change
// ends the user's sessions and API tokens, so a demoted or disabled user
// keeps no access earned under the old terms.
func (a *API) updateUser(c echo.Context) error {
	var in struct {
		Role     *string `json:"role"`
		Password *string `json:"password"`
		Disabled *bool   `json:"disabled"`
	}
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	if in.Role == nil && in.Password == nil && in.Disabled == nil {
		return syncproto.Errorf(syncproto.CodeInvalid, "give role, password or disabled")
	}
	var role auth.Role
	if in.Role != nil {
		var err error
		if role, err = auth.ParseRole(*in.Role); err != nil {
			return err
		}
	}
	if in.Password != nil {
		if err := checkPassword(*in.Password); err != nil {
			return err
		}
	}
	var before, after store.User
	err := a.Store.UpdateUser(c.Request().Context(), c.Param("username"), true, func(u *store.User) error {
		before = *u
		if in.Role != nil {
			u.Role = role
		}
		if in.Password != nil {
			u.PasswordHash = auth.HashPassword(*in.Password, a.PasswordParams)
		}
		if in.Disabled != nil {
			u.Disabled = *in.Disabled
		}
		u.UpdatedAt = a.Now().UTC()
		after = *u
		return nil
	})
	if err != nil {
		return err
	}
	ctx, who, ip := c.Request().Context(), principal(c).Who(), remote(c)
	if before.Role != after.Role {
		a.audit(ctx, store.AuditEvent{Kind: store.AuditRoleChanged, Actor: who, Subject: after.Username, Remote: ip, Detail: string(before.Role) + " -> " + string(after.Role)})
	}
	if in.Password != nil {
		a.audit(ctx, store.AuditEvent{Kind: store.AuditUserChanged, Actor: who, Subject: after.Username, Remote: ip, Detail: "password reset"})
	}
	if before.Disabled != after.Disabled {
		a.audit(ctx, store.AuditEvent{Kind: store.AuditUserChanged, Actor: who, Subject: after.Username, Remote: ip, Detail: map[bool]string{true: "disabled", false: "enabled"}[after.Disabled]})
	}
	return c.JSON(http.StatusOK, userView(&after))
}

// API tokens.

func (a *API) createToken(c echo.Context) error {
	var in struct {
		Username string `json:"username"`
		Name     string `json:"name"`
		// ExpiresIn is a Go duration ("720h"); empty means no expiry.
		ExpiresIn string `json:"expires_in"`
	}
	if err := jsonapi.Bind(c, &in, false); err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > syncproto.MaxShortLen {
		return syncproto.Errorf(syncproto.CodeInvalid, "name (what the token is for) is required, at most %d bytes", syncproto.MaxShortLen)
	}
	now := a.Now().UTC()
	t := store.Token{Kind: store.TokenAPI, Username: in.Username, Name: in.Name, CreatedAt: now}
	if in.ExpiresIn != "" {
		d, err := time.ParseDuration(in.ExpiresIn)
		if err != nil || d <= 0 {
			return syncproto.Errorf(syncproto.CodeInvalid, "expires_in must be a positive duration such as 720h")
		}
		t.ExpiresAt = now.Add(d)
	}
	token := auth.NewToken()
	if err := a.Store.PutToken(c.Request().Context(), auth.HashToken(token), &t); err != nil {
		return err
	}
	a.audit(c.Request().Context(), store.AuditEvent{Kind: store.AuditTokenIssued, Actor: principal(c).Who(), Subject: t.Username, Remote: remote(c), Detail: "token " + t.ID + " " + t.Name})
	return c.JSON(http.StatusCreated, map[string]any{"id": t.ID, "token": token, "username": t.Username, "name": t.Name, "created_at": t.CreatedAt, "expires_at": t.ExpiresAt})
}

func (a *API) listTokens(c echo.Context) error {
	kind := c.QueryParam("kind")
	if kind != "" && kind != store.TokenAPI && kind != store.TokenSession {
		return syncproto.Errorf(syncproto.CodeInvalid, "kind must be api or session")
	}
	ts, err := a.Store.Tokens(c.Request().Context(), kind)
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []store.Token{}
	}
	return c.JSON(http.StatusOK, map[string]any{"tokens": ts})
}

func (a *API) deleteToken(c echo.Context) error {
	t, err := a.Store.DeleteTokenByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	a.audit(c.Request().Context(), store.AuditEvent{Kind: store.AuditTokenRevoked, Actor: principal(c).Who(), Subject: t.Username, Remote: remote(c), Detail: t.Kind + " token " + t.ID})
	return c.NoContent(http.StatusNoContent)
}
