package web

import "testing"

func TestParseZone(t *testing.T) {
	zones := []Zone{{Name: "UTC"}, {Name: "Europe/Lisbon", Label: "Europe/Lisbon"}}
	for _, b := range brazilZones {
		zones = append(zones, Zone{Name: b.name, Label: b.label, Brazil: true})
	}
	for in, want := range map[string]string{
		"America/Sao_Paulo": "America/Sao_Paulo", "america/sao_paulo": "America/Sao_Paulo",
		"America/Sao Paulo": "America/Sao_Paulo", "Brasília": "America/Sao_Paulo", "brasilia": "America/Sao_Paulo",
		"Horário de Brasília": "America/Sao_Paulo", "GMT-3": "America/Sao_Paulo", "UTC−03:00": "America/Sao_Paulo",
		"-0300": "America/Sao_Paulo", "GMT-4": "America/Manaus", "Manaus": "America/Manaus", "cuiabá": "America/Cuiaba",
		"Fernando de Noronha": "America/Noronha", "utc-5": "America/Rio_Branco", "europe/lisbon": "Europe/Lisbon",
		"Recife — PE": "America/Recife", "UTC": "UTC",
	} {
		if got, ok := ParseZone(in, zones); !ok || got != want {
			t.Errorf("ParseZone(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "GMT+9", "Atlantis", "-3:30", "GMT-33", "Brasília/Recife"} {
		if got, ok := ParseZone(in, zones); ok {
			t.Errorf("ParseZone(%q) = %q, want refused", in, got)
		}
	}
}
