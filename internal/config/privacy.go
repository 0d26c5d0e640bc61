package config

import (
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"
)

// Complaints configures the complaint and report channel (Measures Art. 15):
// the published process, per-category deadlines in working days on a
// holiday calendar, attachment limits and the per-IP rate limit.
type Complaints struct {
	// Process is the handling process published on the form and on
	// /complaints/process.
	Process string `yaml:"process"`
	// Timezone is the calendar's zone; Holidays are public holidays and
	// Workdays the weekend days made working days (调休), as 2006-01-02.
	Timezone string   `yaml:"timezone"`
	Holidays []string `yaml:"holidays"`
	Workdays []string `yaml:"workdays"`
	// Deadlines are working days per category (≤ 15, the App 认定方法 cap).
	Deadlines map[string]int `yaml:"deadlines"`
	// MaxDescription is the longest description in characters.
	MaxDescription int `yaml:"max_description"`
	// MaxAttachmentBytes caps the optional attachment (0: none accepted);
	// AttachmentTypes are the sniffed media types accepted.
	MaxAttachmentBytes int64    `yaml:"max_attachment_bytes"`
	AttachmentTypes    []string `yaml:"attachment_types"`
	// RateLimit complaints per client IP per RateWindow; RateTableSize
	// bounds how many IPs are tracked.
	RateLimit     int      `yaml:"rate_limit"`
	RateWindow    Duration `yaml:"rate_window"`
	RateTableSize int      `yaml:"rate_table_size"`
}

// Privacy configures personal-information requests and data minimisation
// (Measures Art. 11, PIPL Arts. 44–50).
type Privacy struct {
	// RequestDeadline is the working days to close a PI request.
	RequestDeadline int `yaml:"request_deadline"`
	// StoreText keeps prompts and responses, redacted and encrypted, for
	// TextRetention (off by default: only audit metadata is kept).
	StoreText     bool     `yaml:"store_text"`
	TextRetention Duration `yaml:"text_retention"`
	PurgeInterval Duration `yaml:"purge_interval"`
	// TextKeyID names the key new text is sealed with; TextKeys maps key
	// ids to base64 32-byte AES keys (write "${ENV}"). Old keys stay listed
	// for reading until their text is purged.
	TextKeyID     string            `yaml:"text_key_id"`
	TextKeys      map[string]Secret `yaml:"text_keys"`
	TextQueueSize int               `yaml:"text_queue_size"`
	MaxTextBytes  int               `yaml:"max_text_bytes"`
}

// ComplaintCategories lists the category keys of complaints.deadlines.
func ComplaintCategories() []string {
	return []string{"illegal_content", "illegal_activity", "ip_infringement", "personal_information", "missing_ai_label", "appeal", "other"}
}

func defaultComplaints() Complaints {
	return Complaints{
		Process: "1. 提交投诉后您会得到工单号和私密查询链接。2. 我们在 1 个工作日内受理并开始审核。3. 审核后作出处理（删除内容、处置账号或驳回），" +
			"并在下列时限内通过查询链接告知结果和理由。4. 对处理结果不服的，可以再次提交申诉，或向网信部门举报（12377）。" +
			"You get a ticket number and a private status link; we review, act (remove content, act on an account, or reject) and " +
			"tell you the outcome and the reason on the status page within the deadline below.",
		Timezone: "Asia/Shanghai",
		Deadlines: map[string]int{"illegal_content": 3, "illegal_activity": 3, "ip_infringement": 15, "personal_information": 15,
			"missing_ai_label": 7, "appeal": 15, "other": 15},
		MaxDescription:     5000,
		MaxAttachmentBytes: 5 << 20,
		AttachmentTypes:    []string{"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"},
		RateLimit:          5,
		RateWindow:         Duration(time.Hour),
		RateTableSize:      10000,
	}
}

func defaultPrivacy() Privacy {
	return Privacy{RequestDeadline: 15, TextRetention: Duration(30 * 24 * time.Hour), PurgeInterval: Duration(time.Hour),
		TextQueueSize: 1024, MaxTextBytes: 64 << 10}
}

// Location is the complaint calendar's time zone.
func (c Complaints) Location() (*time.Location, error) { return time.LoadLocation(c.Timezone) }

// Keys decodes the text keys (after validation).
func (p Privacy) Keys() (map[string][]byte, error) {
	out := map[string][]byte{}
	for id, s := range p.TextKeys {
		b, err := base64.StdEncoding.DecodeString(s.Value)
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf("privacy.text_keys.%s: not a base64 32-byte key", id)
		}
		out[id] = b
	}
	return out, nil
}

// validateComplaintsPrivacy checks both sections.
func (c *Config) validateComplaintsPrivacy(file string, root *yaml.Node, getenv func(string) string) []Problem {
	var probs []Problem
	bad := func(path, format string, args ...any) {
		probs = append(probs, Problem{File: file, Line: lineOf(root, path), Field: path, Msg: fmt.Sprintf(format, args...)})
	}
	cp := &c.Complaints
	if len(cp.Process) == 0 || len(cp.Process) > 16<<10 {
		bad("complaints.process", "must be 1 … 16384 bytes")
	}
	if _, err := cp.Location(); err != nil {
		bad("complaints.timezone", "%q is not a time zone", cp.Timezone)
	}
	if len(cp.Holidays)+len(cp.Workdays) > 2000 {
		bad("complaints.holidays", "more than 2000 dates")
	}
	for _, list := range []struct {
		path  string
		dates []string
	}{{"complaints.holidays", cp.Holidays}, {"complaints.workdays", cp.Workdays}} {
		for _, d := range list.dates {
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				bad(list.path, "%q is not a date (2006-01-02)", d)
			}
		}
	}
	for _, d := range cp.Holidays {
		if slices.Contains(cp.Workdays, d) {
			bad("complaints.workdays", "%s is also a holiday", d)
		}
	}
	for k, v := range cp.Deadlines {
		if !slices.Contains(ComplaintCategories(), k) {
			bad("complaints.deadlines."+k, "unknown category (one of %v)", ComplaintCategories())
		} else if v < 1 || v > 15 {
			bad("complaints.deadlines."+k, "%d is outside 1 … 15 working days", v)
		}
	}
	for _, k := range ComplaintCategories() {
		if _, ok := cp.Deadlines[k]; !ok {
			bad("complaints.deadlines", "no deadline for %s", k)
		}
	}
	if cp.MaxDescription < 100 || cp.MaxDescription > 100000 {
		bad("complaints.max_description", "%d is outside 100 … 100000", cp.MaxDescription)
	}
	if cp.MaxAttachmentBytes < 0 || cp.MaxAttachmentBytes > 64<<20 {
		bad("complaints.max_attachment_bytes", "%d is outside 0 … 67108864", cp.MaxAttachmentBytes)
	}
	known := []string{"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "application/pdf", "text/plain", "audio/wave", "audio/mpeg", "video/mp4"}
	for _, t := range cp.AttachmentTypes {
		if !slices.Contains(known, t) {
			bad("complaints.attachment_types", "%q is not a type we can sniff (%v)", t, known)
		}
	}
	if cp.RateLimit < 1 || cp.RateLimit > 10000 {
		bad("complaints.rate_limit", "%d is outside 1 … 10000", cp.RateLimit)
	}
	if cp.RateWindow <= 0 {
		bad("complaints.rate_window", "must be a positive duration")
	}
	if cp.RateTableSize < 100 || cp.RateTableSize > 1000000 {
		bad("complaints.rate_table_size", "%d is outside 100 … 1000000", cp.RateTableSize)
	}

	p := &c.Privacy
	if p.RequestDeadline < 1 || p.RequestDeadline > 15 {
		bad("privacy.request_deadline", "%d is outside 1 … 15 working days", p.RequestDeadline)
	}
	if p.TextRetention < Duration(time.Hour) || p.TextRetention > Duration(3*365*24*time.Hour) {
		bad("privacy.text_retention", "must be between 1h and 3 years")
	}
	if p.PurgeInterval < Duration(time.Second) {
		bad("privacy.purge_interval", "must be at least 1s")
	}
	if p.TextQueueSize < 1 || p.TextQueueSize > 1<<20 {
		bad("privacy.text_queue_size", "%d is outside 1 … 1048576", p.TextQueueSize)
	}
	if p.MaxTextBytes < 1024 || p.MaxTextBytes > 1<<20 {
		bad("privacy.max_text_bytes", "%d is outside 1024 … 1048576", p.MaxTextBytes)
	}
	for id, s := range p.TextKeys {
		path := "privacy.text_keys." + id
		s.resolve(getenv, func(msg string) { bad(path, "%s", msg) })
		p.TextKeys[id] = s
		if len(id) == 0 || len(id) > 32 {
			bad(path, "key ids are 1 … 32 characters")
		}
		if b, err := base64.StdEncoding.DecodeString(s.Value); s.Value != "" && (err != nil || len(b) != 32) {
			bad(path, "must be a base64 32-byte key (openssl rand -base64 32)")
		}
	}
	if p.StoreText {
		if p.TextKeyID == "" {
			bad("privacy.text_key_id", "store_text needs an encryption key: set text_key_id and text_keys")
		} else if _, ok := p.TextKeys[p.TextKeyID]; !ok {
			bad("privacy.text_key_id", "%q is not in text_keys", p.TextKeyID)
		}
	}
	return probs
}
