package complaint

import (
	"bytes"
	"mime/multipart"
	"strings"
	"testing"
	"time"
)

func TestCalendarDue(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	// National Day 2026: Oct 1–7 off; Sep 27 (Sun) and Oct 10 (Sat) worked
	// (an example calendar; the real one comes from config).
	cal, err := NewCalendar(loc, []string{"2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"}, []string{"2026-09-27", "2026-10-10"})
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tc := range []struct {
		from string
		n    int
		want string
	}{
		{"2026-11-23 09:00", 1, "2026-11-24"},  // Mon → Tue
		{"2026-11-27 18:00", 1, "2026-11-30"},  // Fri → Mon
		{"2026-11-28 10:00", 3, "2026-12-02"},  // Sat → Mon, Tue, Wed
		{"2026-09-25 10:00", 1, "2026-09-27"},  // Fri → the make-up Sunday
		{"2026-09-30 10:00", 2, "2026-10-09"},  // holidays skipped: Oct 8, 9
		{"2026-09-30 10:00", 3, "2026-10-10"},  // the make-up Saturday counts
		{"2026-11-23 23:59", 15, "2026-12-14"}, // three weeks
	} {
		got := cal.Due(at(tc.from), tc.n)
		if got.Format("2006-01-02") != tc.want || got.Hour() != 23 || got.Minute() != 59 {
			t.Errorf("Due(%s, %d) = %v, want end of %s", tc.from, tc.n, got, tc.want)
		}
	}
	if _, err := NewCalendar(loc, []string{"2026-13-01"}, nil); err == nil {
		t.Error("bad date accepted")
	}
	if _, err := NewCalendar(loc, []string{"2026-10-01"}, []string{"2026-10-01"}); err == nil {
		t.Error("a date both holiday and workday accepted")
	}
	// Every day a holiday: Due still returns (bounded).
	var all []string
	for d := at("2026-01-01 00:00"); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		all = append(all, d.Format(time.DateOnly))
	}
	full, _ := NewCalendar(loc, all, nil)
	full.Due(at("2026-01-01 00:00"), 15)
}

func multipartBody(t testing.TB, fields map[string]string, file []byte) (string, []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("attachment", "../../etc/passwd.png")
		fw.Write(file)
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

func TestParseForm(t *testing.T) {
	ct, body := multipartBody(t, map[string]string{"csrf": "tok", "category": "other", "description": "<b>hi</b>"}, []byte("\x89PNG\r\n\x1a\nrest"))
	in, tok, err := ParseForm(ct, bytes.NewReader(body), 1024)
	if err != nil || tok != "tok" || in.Description != "<b>hi</b>" || in.AttachmentName == "" || len(in.Attachment) != 12 {
		t.Fatalf("ParseForm = %+v, %q, %v", in, tok, err)
	}
	if name := cleanName(in.AttachmentName); strings.ContainsAny(name, "/\x00") || name != "passwd.png" {
		t.Errorf("cleanName = %q", name)
	}
	for name, tc := range map[string]struct {
		ct   string
		body string
	}{
		"no boundary":  {"multipart/form-data", "x"},
		"bad type":     {"text/plain", "category=other"},
		"garbage ct":   {";;;", ""},
		"duplicate":    {"application/x-www-form-urlencoded", "category=other&category=appeal"},
		"bad escape":   {"application/x-www-form-urlencoded", "description=%zz"},
		"truncated mp": {ct, string(body[:len(body)/2])},
	} {
		if _, _, err := ParseForm(tc.ct, strings.NewReader(tc.body), 1024); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, _, err := ParseForm(ct, bytes.NewReader(body), 4); err == nil {
		t.Error("attachment over the limit accepted")
	}
}

func TestSniffRejectsDisguisedFiles(t *testing.T) {
	for _, tc := range []struct {
		data string
		ok   bool
	}{
		{"\x89PNG\r\n\x1a\n....", true},
		{"%PDF-1.7\n", true},
		{"plain words", true},
		{"<html><script>alert(1)</script>", false},
		{"<svg onload=alert(1)>", true}, // sniffed as text/plain: served as a text download, never rendered
		{"MZ\x90\x00\x03\x00\x00\x00", false},
		{"PK\x03\x04zip", false},
	} {
		_, err := checkAttachment("x.png", []byte(tc.data), AllowedTypes(), 1<<20)
		if (err == nil) != tc.ok {
			t.Errorf("checkAttachment(%q) err = %v, want ok=%v", tc.data, err, tc.ok)
		}
	}
}

// FuzzParseForm: any content type and body either parses within limits
// or fails with an error; it never panics or returns an attachment over
// the limit.
func FuzzParseForm(f *testing.F) {
	ct, body := multipartBody(f, map[string]string{"csrf": "t", "category": "illegal_content", "description": "<script>x</script>"}, []byte("\x89PNG\r\n\x1a\n"))
	f.Add(ct, body)
	f.Add("application/x-www-form-urlencoded", []byte("category=other&description=%E4%BD%A0%E5%A5%BD&csrf=a.b"))
	f.Add("multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"a\"\r\n\r\nAAAA\r\n--x--\r\n"))
	f.Add("multipart/form-data; boundary=\"", []byte("--"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		in, _, err := ParseForm(ct, bytes.NewReader(body), 64)
		if err == nil && len(in.Attachment) > 64 {
			t.Fatalf("attachment of %d bytes over the limit", len(in.Attachment))
		}
	})
}
