package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cabincare/cabincare/flagenv"
	"github.com/cabincare/cabincare/server/fleet"
)

const adminUsage = `usage: ground admin [flags] COMMAND [ARGS]

Talks to a running ground server's REST API, for sync admins who prefer a
shell. Commands:

  devices [--flight F] [--online true|false] [--problem any|none|RULE]
                             the fleet as a table
  alerts                     current health alerts, critical first
  readiness FLIGHT           each enquiry handed to FLIGHT and the tablets that have it
  rename DEVICE NAME         give a device a new name
  resync DEVICE              the device pulls everything again, keeping its outbox
  decommission DEVICE        revoke and forget the device once its outbox is drained
  revoke DEVICE              revoke the device's token and disconnect it now

Flags:
`

// runAdmin is "ground admin": a thin client of the REST API.
func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ground admin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, adminUsage)
		fs.PrintDefaults()
	}
	base := fs.String("url", "http://127.0.0.1:8080", "ground server base URL")
	token := fs.String("token", "", "admin bearer token")
	timeout := fs.Duration("timeout", 15*time.Second, "limit for each request")
	err := flagenv.Parse(fs, args, map[string]string{"url": "CABINCARE_ADMIN_URL", "token": "CABINCARE_ADMIN_TOKEN"}, os.LookupEnv)
	if err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("no command")
	}
	if *token == "" {
		return errors.New("an admin token is required (--token or CABINCARE_ADMIN_TOKEN)")
	}
	c := &adminClient{base: strings.TrimSuffix(*base, "/"), token: *token, http: &http.Client{Timeout: *timeout}}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	need := func(n int, usage string) error {
		if len(rest) != n {
			return fmt.Errorf("usage: ground admin %s %s", cmd, usage)
		}
		return nil
	}
	switch cmd {
	case "devices":
		return c.devices(ctx, rest, stdout, stderr)
	case "alerts":
		if err := need(0, ""); err != nil {
			return err
		}
		return c.alerts(ctx, stdout)
	case "readiness":
		if err := need(1, "FLIGHT"); err != nil {
			return err
		}
		return c.readiness(ctx, rest[0], stdout)
	case "rename":
		if err := need(2, "DEVICE NAME"); err != nil {
			return err
		}
		var v fleet.DeviceView
		if err := c.do(ctx, "POST", "/devices/"+url.PathEscape(rest[0])+"/rename", map[string]string{"name": rest[1]}, &v); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "device %s renamed to %q\n", v.ID, v.Name)
		return nil
	case "resync":
		if err := need(1, "DEVICE"); err != nil {
			return err
		}
		var v fleet.DeviceView
		if err := c.do(ctx, "POST", "/devices/"+url.PathEscape(rest[0])+"/resync", nil, &v); err != nil {
			return err
		}
		when := "at its next connection"
		if v.Online {
			when = "now (it was disconnected to reconnect)"
		}
		fmt.Fprintf(stdout, "device %s (%s) will pull everything again %s; its outbox is kept\n", v.ID, v.Name, when)
		return nil
	case "decommission":
		if err := need(1, "DEVICE"); err != nil {
			return err
		}
		var out struct {
			Decommissioned bool              `json:"decommissioned"`
			Device         *fleet.DeviceView `json:"device"`
		}
		if err := c.do(ctx, "POST", "/devices/"+url.PathEscape(rest[0])+"/decommission", nil, &out); err != nil {
			return err
		}
		if out.Decommissioned {
			fmt.Fprintf(stdout, "device %s decommissioned: revoked and forgotten\n", rest[0])
		} else {
			fmt.Fprintf(stdout, "device %s is decommissioning: it will be revoked and forgotten once it has sent its outbox (%d pending at its last report)\n", rest[0], out.Device.Pending)
		}
		return nil
	case "revoke":
		if err := need(1, "DEVICE"); err != nil {
			return err
		}
		var v fleet.DeviceView
		if err := c.do(ctx, "POST", "/devices/"+url.PathEscape(rest[0])+"/revoke", nil, &v); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "device %s (%s) revoked\n", v.ID, v.Name)
		return nil
	}
	fs.Usage()
	return fmt.Errorf("unknown command %q", cmd)
}

type adminClient struct {
	base, token string
	http        *http.Client
}

// apiError is the API's error envelope.
type apiError struct {
	Status int
	Code   string `json:"code"`
	Msg    string `json:"message"`
}

func (e *apiError) Error() string { return fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.Status, e.Msg) }

func (c *adminClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/api/v1"+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		var env struct {
			Error apiError `json:"error"`
		}
		if json.Unmarshal(raw, &env) != nil || env.Error.Code == "" {
			return fmt.Errorf("%s %s: HTTP %d", method, path, resp.StatusCode)
		}
		env.Error.Status = resp.StatusCode
		return &env.Error
	}
	return json.Unmarshal(raw, out)
}

func (c *adminClient) devices(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ground admin devices", flag.ContinueOnError)
	fs.SetOutput(stderr)
	flight := fs.String("flight", "", "only devices serving this flight")
	online := fs.String("online", "", "true or false: only online or offline devices")
	problem := fs.String("problem", "", "any, none, or a rule name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	q := url.Values{}
	for k, v := range map[string]string{"flight": *flight, "online": *online, "problem": *problem} {
		if v != "" {
			q.Set(k, v)
		}
	}
	path := "/devices"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out struct {
		Devices []fleet.DeviceView `json:"devices"`
	}
	if err := c.do(ctx, "GET", path, nil, &out); err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tSTATE\tFLIGHTS\tLAST SYNC\tPENDING\tLAG\tSKEW\tAPP\tPROBLEMS")
	for _, d := range out.Devices {
		state := "offline"
		switch {
		case d.Revoked:
			state = "revoked"
		case d.Decommissioning != nil:
			state = "decommissioning"
		case d.Online:
			state = "online"
		}
		skew := "-"
		if d.SkewMs != nil {
			skew = (time.Duration(*d.SkewMs) * time.Millisecond).Round(time.Second).String()
		}
		problems := strings.Join(d.Problems, ",")
		if problems == "" {
			problems = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", d.ID, d.Name, state, orDash(strings.Join(d.Flights, ",")),
			ago(d.SinceLastSync), d.Pending, d.CursorLag, skew, orDash(d.AppVersion), problems)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d devices\n", len(out.Devices))
	return nil
}

func (c *adminClient) alerts(ctx context.Context, stdout io.Writer) error {
	var out struct {
		Alerts []fleet.Alert `json:"alerts"`
	}
	if err := c.do(ctx, "GET", "/alerts", nil, &out); err != nil {
		return err
	}
	if len(out.Alerts) == 0 {
		fmt.Fprintln(stdout, "no alerts")
		return nil
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "SEVERITY\tRULE\tDEVICE\tFLIGHT\tREASON")
	for _, a := range out.Alerts {
		dev := a.DeviceName
		if dev == "" {
			dev = a.DeviceID
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", a.Severity, a.Rule, orDash(dev), orDash(a.FlightID), a.Reason)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d alerts\n", len(out.Alerts))
	return nil
}

func (c *adminClient) readiness(ctx context.Context, flight string, stdout io.Writer) error {
	var r fleet.Readiness
	if err := c.do(ctx, "GET", "/flights/"+url.PathEscape(flight)+"/readiness", nil, &r); err != nil {
		return err
	}
	departs := "no departure time"
	if r.DepartsInSeconds != nil {
		in := time.Duration(*r.DepartsInSeconds) * time.Second
		departs = "departs in " + in.String()
		if in < 0 {
			departs = "departed " + (-in).String() + " ago"
		}
	}
	verdict := "READY"
	if !r.Ready {
		verdict = "NOT READY"
	}
	fmt.Fprintf(stdout, "%s: %s, %s; %d tablets; %d of %d enquiries on at least %d tablet(s)\n",
		r.Flight.ID, verdict, departs, len(r.Devices), r.Counts["ready"], r.Counts["enquiries"], r.MinTablets)
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ENQUIRY\tSEAT\tPASSENGER\tSTATUS\tON TABLETS")
	for _, e := range r.Enquiries {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\n", e.ID, orDash(e.Seat), orDash(e.PassengerName), e.Status, e.OnTablets)
	}
	return w.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ago renders seconds since the last sync the way a person reads a table.
func ago(s *int64) string {
	if s == nil {
		return "never"
	}
	return (time.Duration(*s) * time.Second).String() + " ago"
}
