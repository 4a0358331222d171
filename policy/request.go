package policy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Request is one policy delegation request: the attributes this service
// uses. Postfix sends many more; they are read and ignored.
type Request struct {
	// Request is the request type; Postfix sends "smtpd_access_policy".
	Request string
	// ProtocolState is the SMTP stage: CONNECT, EHLO, HELO, MAIL, RCPT,
	// DATA, END-OF-MESSAGE, VRFY or ETRN.
	ProtocolState string
	// Sender is the envelope sender; empty for the null sender <>.
	Sender string
	// Recipient is the envelope recipient (at RCPT).
	Recipient string
	// ClientAddress is the connecting relay's IP address.
	ClientAddress string
	// SASLUsername is set when the client authenticated.
	SASLUsername string
	// QueueID and Instance identify the message, for logs.
	QueueID, Instance string
}

// Limits bounds what the parser accepts from one connection.
type Limits struct {
	// MaxLine is the longest attribute line in bytes, without the newline.
	// Default 4096.
	MaxLine int
	// MaxRequest is the largest request in bytes. Default 65536.
	MaxRequest int
}

// DefaultLimits are comfortably above what Postfix 3.7 sends (about 600
// bytes, longer with client certificates).
var DefaultLimits = Limits{MaxLine: 4096, MaxRequest: 64 << 10}

// ErrMalformed is wrapped by every parse error: the request cannot be
// answered and, by the protocol's rule, the connection must be closed
// without a reply.
var ErrMalformed = errors.New("malformed policy request")

// ReadRequest reads one request: name=value lines ending with an empty line.
// It returns io.EOF when the connection ends cleanly between requests, and
// an error wrapping ErrMalformed for anything else that is not a complete,
// well-formed request. Attributes come in any order; unknown ones are
// ignored; of a repeated attribute the first wins.
func ReadRequest(r *bufio.Reader, lim Limits) (*Request, error) {
	lim = lim.withDefaults()
	req := &Request{}
	seen := make(map[string]bool, 8)
	total, lines := 0, 0
	for {
		line, err := readLine(r, lim.MaxLine)
		if err != nil {
			if errors.Is(err, io.EOF) && lines == 0 && len(line) == 0 {
				return nil, io.EOF
			}
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%w: connection closed inside a request", ErrMalformed)
			}
			return nil, err
		}
		if len(line) == 0 {
			if lines == 0 {
				return nil, fmt.Errorf("%w: empty request", ErrMalformed)
			}
			return req, nil
		}
		lines++
		if total += len(line) + 1; total > lim.MaxRequest {
			return nil, fmt.Errorf("%w: request longer than %d bytes", ErrMalformed, lim.MaxRequest)
		}
		if err := req.set(line, seen); err != nil {
			return nil, err
		}
	}
}

// set records one name=value line.
func (req *Request) set(line []byte, seen map[string]bool) error {
	eq := bytes.IndexByte(line, '=')
	if eq <= 0 {
		return fmt.Errorf("%w: line without name=value", ErrMalformed)
	}
	name, value := string(line[:eq]), line[eq+1:]
	field := req.field(name)
	if field == nil || seen[name] {
		return nil
	}
	seen[name] = true
	*field = string(value)
	return nil
}

// field returns where the named attribute is kept, or nil to ignore it.
func (req *Request) field(name string) *string {
	switch name {
	case "request":
		return &req.Request
	case "protocol_state":
		return &req.ProtocolState
	case "sender":
		return &req.Sender
	case "recipient":
		return &req.Recipient
	case "client_address":
		return &req.ClientAddress
	case "sasl_username":
		return &req.SASLUsername
	case "queue_id":
		return &req.QueueID
	case "instance":
		return &req.Instance
	}
	return nil
}

// readLine reads one line without its "\n" (and a "\r" before it). A line
// longer than max is an error; a final line without a newline comes back
// with io.EOF.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(buf)+len(chunk) > max+2 {
			return nil, fmt.Errorf("%w: line longer than %d bytes", ErrMalformed, max)
		}
		buf = append(buf, chunk...)
		switch {
		case err == nil:
			buf = bytes.TrimSuffix(buf[:len(buf)-1], []byte{'\r'})
			if len(buf) > max {
				return nil, fmt.Errorf("%w: line longer than %d bytes", ErrMalformed, max)
			}
			return buf, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return buf, err
		}
	}
}

func (l Limits) withDefaults() Limits {
	if l.MaxLine <= 0 {
		l.MaxLine = DefaultLimits.MaxLine
	}
	if l.MaxRequest <= 0 {
		l.MaxRequest = DefaultLimits.MaxRequest
	}
	return l
}

// WriteAction writes the reply to a request: "action=<action>" and an
// empty line.
func WriteAction(w io.Writer, action string) error {
	if _, err := io.WriteString(w, "action="+action+"\n\n"); err != nil {
		return fmt.Errorf("writing policy reply: %w", err)
	}
	return nil
}
