package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/geniai/analytics/internal/pg"
)

// The timezone picker: Brazil's zones first, by the names people use for them, then every IANA
// zone the database knows, searchable (a datalist), the IANA name underneath. Typed input is
// also read leniently: an IANA name in any case, a Brazilian zone's name ("Brasília",
// "Manaus") or a Brazilian UTC offset ("GMT-3", "UTC−4", "-03:00").

// Zone is one choice of the picker.
type Zone struct {
	Name   string // IANA
	Label  string // what people call it
	Offset string // "UTC−03:00", at the moment the list was read
	Brazil bool
}

// brazilZones are Brazil's IANA zones, most used first, with the places they cover.
var brazilZones = []struct{ name, label string }{
	{"America/Sao_Paulo", "Brasília — SP, RJ, MG, ES, PR, SC, RS, GO, DF"},
	{"America/Bahia", "Bahia"},
	{"America/Fortaleza", "Fortaleza — CE, RN, PB, PI, MA"},
	{"America/Recife", "Recife — PE"},
	{"America/Maceio", "Maceió — AL, SE"},
	{"America/Belem", "Belém — PA (leste), AP"},
	{"America/Santarem", "Santarém — PA (oeste)"},
	{"America/Araguaina", "Araguaína — TO"},
	{"America/Manaus", "Manaus — AM"},
	{"America/Cuiaba", "Cuiabá — MT"},
	{"America/Campo_Grande", "Campo Grande — MS"},
	{"America/Porto_Velho", "Porto Velho — RO"},
	{"America/Boa_Vista", "Boa Vista — RR"},
	{"America/Rio_Branco", "Rio Branco — AC"},
	{"America/Eirunepe", "Eirunepé — AM (oeste)"},
	{"America/Noronha", "Fernando de Noronha"},
}

// brazilOffsets maps a UTC offset in hours to the Brazilian zone people mean by it.
var brazilOffsets = map[int]string{-2: "America/Noronha", -3: "America/Sao_Paulo", -4: "America/Manaus", -5: "America/Rio_Branco"}

// zoneList is read from the database (pg_timezone_names) on first use and kept: zone names and
// offsets change with the server's tz data, i.e. on a restart.
type zoneList struct {
	mu    sync.Mutex
	zones []Zone
}

// Zones is the picker's list: Brazil's zones, then every other zone by name.
func (s *Server) Zones(ctx context.Context) ([]Zone, error) {
	s.zones.mu.Lock()
	defer s.zones.mu.Unlock()
	if s.zones.zones != nil {
		return s.zones.zones, nil
	}
	offsets := map[string]int32{}
	var names []string
	if err := s.db.InReadTx(ctx, pg.System("zones"), func(tx pg.Tx) error {
		rs, err := tx.TimezoneNames(ctx)
		for _, r := range rs {
			offsets[r.Name] = r.OffsetSeconds
			names = append(names, r.Name)
		}
		return err
	}); err != nil {
		return nil, err
	}
	var zones []Zone
	inBrazil := map[string]bool{}
	for _, b := range brazilZones {
		inBrazil[b.name] = true
		if off, ok := offsets[b.name]; ok {
			zones = append(zones, Zone{Name: b.name, Label: b.label, Offset: utcOffset(off), Brazil: true})
		}
	}
	for _, name := range names {
		if !inBrazil[name] {
			zones = append(zones, Zone{Name: name, Label: strings.ReplaceAll(name, "_", " "), Offset: utcOffset(offsets[name])})
		}
	}
	s.zones.zones = zones
	return zones, nil
}

func utcOffset(seconds int32) string {
	sign := "+"
	if seconds < 0 {
		sign, seconds = "−", -seconds
	}
	return fmt.Sprintf("UTC%s%02d:%02d", sign, seconds/3600, seconds%3600/60)
}

// ParseZone reads what a person typed or picked into an IANA zone name: the name itself (any
// case), a Brazilian zone's label or city, or a Brazilian UTC offset. ok is false when nothing
// matches; the caller refuses the input with the list's help.
func ParseZone(input string, zones []Zone) (string, bool) {
	in := strings.TrimSpace(input)
	if in == "" {
		return "", false
	}
	for _, z := range zones {
		if strings.EqualFold(z.Name, in) || strings.EqualFold(z.Name, strings.ReplaceAll(in, " ", "_")) {
			return z.Name, true
		}
	}
	key := foldText(in)
	for _, z := range zones {
		if !z.Brazil {
			continue
		}
		label := foldText(z.Label)
		city, _, _ := strings.Cut(label, " — ")
		if key == label || key == city || key == foldText(z.Label+" ("+z.Name+")") {
			return z.Name, true
		}
	}
	if key == "horario de brasilia" || key == "brasil" || key == "brazil" || key == "sao paulo" {
		return "America/Sao_Paulo", true
	}
	if h, ok := parseOffsetHours(key); ok {
		if name, ok := brazilOffsets[h]; ok {
			return name, true
		}
	}
	return "", false
}

// parseOffsetHours reads "gmt-3", "utc -03:00", "-3", "-0300" as whole hours.
func parseOffsetHours(s string) (int, bool) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(s, "gmt"), "utc"))
	s = strings.ReplaceAll(strings.ReplaceAll(s, " ", ""), "−", "-")
	if s == "" || (s[0] != '-' && s[0] != '+') {
		return 0, false
	}
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	s = strings.ReplaceAll(s[1:], ":", "")
	if len(s) == 4 && strings.HasSuffix(s, "00") {
		s = s[:2]
	}
	var h int
	if _, err := fmt.Sscanf(s, "%d", &h); err != nil || fmt.Sprint(h) != strings.TrimLeft(s, "0") && s != "0" && s != "00" {
		return 0, false
	}
	return sign * h, true
}

// foldText lower-cases and strips accents, for lenient matching.
func foldText(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(strings.TrimSpace(s))) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// The reader's clock: every timestamp the panel shows is in the zone the signed-in person chose
// (app.users.timezone, America/Sao_Paulo unless they changed it on "Minha conta"), with the
// offset written next to it, so "21:16 UTC−3" is never mistaken for a UTC time.

// defaultZone is the zone of a person who never chose one.
const defaultZone = "America/Sao_Paulo"

// loadZone is the location of an IANA name, São Paulo when the name is unknown to Go's tz data.
func loadZone(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil && name != "" {
		return loc
	}
	loc, err := time.LoadLocation(defaultZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// viewerZone is the signed-in person's own zone.
func (s *Server) viewerZone(r *http.Request) *time.Location {
	pr := principalFrom(r)
	if pr == nil {
		return loadZone(defaultZone)
	}
	return s.zoneOf(r.Context(), *pr)
}

// zoneOf is p's own zone (app.users.timezone), São Paulo when p is no user (a system job).
func (s *Server) zoneOf(ctx context.Context, p pg.Principal) *time.Location {
	var name string
	if err := s.db.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		name, err = tx.UserOwnTimezone(ctx)
		return err
	}); err != nil {
		return loadZone(defaultZone)
	}
	return loadZone(name)
}

// zoneSuffix is a time's offset in loc, short: "UTC−3", "UTC+5:30", "UTC".
func zoneSuffix(t time.Time, loc *time.Location) string {
	_, off := t.In(loc).Zone()
	if off == 0 {
		return "UTC"
	}
	sign := "+"
	if off < 0 {
		sign, off = "−", -off
	}
	if off%3600 == 0 {
		return fmt.Sprintf("UTC%s%d", sign, off/3600)
	}
	return fmt.Sprintf("UTC%s%d:%02d", sign, off/3600, off%3600/60)
}

// formatAt is a timestamp in the reader's zone with that zone's offset: "05/12/2026 21:16 UTC−3".
func formatAt(lang string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	if loc == nil {
		loc = loadZone(defaultZone)
	}
	return formatDateTime(lang, t, loc) + " " + zoneSuffix(t, loc)
}

// formatAtPtr is formatAt of an optional time ("—" for none).
func formatAtPtr(lang string, t *time.Time, loc *time.Location) string {
	if t == nil {
		return "—"
	}
	return formatAt(lang, *t, loc)
}

// zoneLabel is what people call a zone: Brasília, Manaus…, else the IANA name.
func zoneLabel(name string) string {
	for _, z := range brazilZones {
		if z.name == name {
			label, _, _ := strings.Cut(z.label, " — ")
			return label
		}
	}
	return name
}

func init() {
	funcs["at"] = formatAt
	funcs["atp"] = formatAtPtr
	funcs["zonelabel"] = zoneLabel
	funcs["i64"] = func(n int32) int64 { return int64(n) }
	funcs["nanp"] = func(x float64) *float64 { return &x }
	funcs["ndays"] = func(lang string, n int32) string { // "1 dia", "7 dias"
		if n == 1 {
			return "1 " + translate(lang, "time.day")
		}
		return formatInt(int64(n), lang) + " " + translate(lang, "time.days")
	}
	funcs["zonepicker"] = func(name, value string, zones []Zone) ZonePicker { return ZonePicker{name, value, zones} }
}

// ZonePicker is the "zonepicker" partial's input: the field's name, its value and the list.
type ZonePicker struct {
	Name, Value string
	Zones       []Zone
}

// readZone is a typed zone as its IANA name when the picker's rules recognise it, else the input
// as typed (the database refuses an unknown zone with its own message).
func (s *Server) readZone(ctx context.Context, input string) string {
	zones, err := s.Zones(ctx)
	if err != nil {
		return strings.TrimSpace(input)
	}
	if name, ok := ParseZone(input, zones); ok {
		return name
	}
	return strings.TrimSpace(input)
}

// ZoneNow is the reader's zone's current offset ("UTC−3").
func (p StaffPage) ZoneNow() string { return zoneSuffix(time.Now(), p.Loc) }
