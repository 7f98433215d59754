package mailcatcher

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Parsed is a received message taken apart: headers, the text and HTML bodies, and every other
// leaf part (inline images and attachments), decoded.
type Parsed struct {
	Header mail.Header
	// Subject is the decoded Subject header.
	Subject string
	Text    string
	HTML    string
	Parts   []Part
	// Structure lists the content types of the MIME tree, depth-first ("multipart/mixed",
	// "  multipart/related", ...), for assertions and the catcher's page.
	Structure []string
}

// Part is a non-body leaf of the MIME tree.
type Part struct {
	ContentType string
	Filename    string
	ContentID   string // without angle brackets
	Inline      bool
	Data        []byte
}

// Parse decodes raw MIME.
func Parse(raw []byte) (*Parsed, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	p := &Parsed{Header: m.Header}
	dec := new(mime.WordDecoder)
	if s, err := dec.DecodeHeader(m.Header.Get("Subject")); err == nil {
		p.Subject = s
	} else {
		p.Subject = m.Header.Get("Subject")
	}
	err = p.walk(headerOf(m.Header), m.Body, 0)
	return p, err
}

type partHeader interface {
	Get(string) string
}

func headerOf(h mail.Header) partHeader { return h }

func (p *Parsed) walk(h partHeader, body io.Reader, depth int) error {
	if depth > 10 {
		return fmt.Errorf("MIME nested too deep")
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain; charset=utf-8"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("content type %q: %w", ct, err)
	}
	p.Structure = append(p.Structure, strings.Repeat("  ", depth)+mt)
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := p.walk(part.Header, part, depth+1); err != nil {
				return err
			}
		}
	}
	data, err := decode(h.Get("Content-Transfer-Encoding"), body)
	if err != nil {
		return err
	}
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if name != "" {
		if d, err := new(mime.WordDecoder).DecodeHeader(name); err == nil {
			name = d
		}
	}
	cid := strings.Trim(h.Get("Content-ID"), "<> ")
	switch {
	case mt == "text/plain" && disp != "attachment" && p.Text == "" && name == "":
		p.Text = string(data)
	case mt == "text/html" && disp != "attachment" && p.HTML == "" && name == "":
		p.HTML = string(data)
	default:
		p.Parts = append(p.Parts, Part{ContentType: mt, Filename: name, ContentID: cid,
			Inline: disp == "inline" || (disp == "" && cid != ""), Data: data})
	}
	return nil
}

func decode(cte string, r io.Reader) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return io.ReadAll(base64.NewDecoder(base64.StdEncoding, &stripSpace{r: r}))
	case "quoted-printable":
		return io.ReadAll(quotedprintable.NewReader(r))
	default:
		return io.ReadAll(r)
	}
}

// stripSpace drops line breaks inside base64 bodies.
type stripSpace struct{ r io.Reader }

func (s *stripSpace) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	j := 0
	for i := 0; i < n; i++ {
		if c := b[i]; c != '\r' && c != '\n' && c != ' ' && c != '\t' {
			b[j] = c
			j++
		}
	}
	if j == 0 && n > 0 && err == nil {
		return s.Read(b)
	}
	return j, err
}

// Part finds the first part with the given filename.
func (p *Parsed) Part(filename string) (Part, bool) {
	for _, x := range p.Parts {
		if x.Filename == filename {
			return x, true
		}
	}
	return Part{}, false
}
