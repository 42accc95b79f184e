//! Hex helpers for a UI inspector (independent of the wire encoding, so present in every build).

/// Lowercase hex of the bytes, two digits per byte, separated by single spaces
/// (`[0x06, 0x41]` -> `"06 41"`; empty input -> `""`).
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        push_hex_byte(&mut out, *b);
    }
    out
}

fn push_hex_byte(out: &mut String, b: u8) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.push(char::from(DIGITS[usize::from(b >> 4)]));
    out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
}

/// Classic hex dump for an inspector, 16 bytes per line:
/// `OOOOOOOO  hh hh ... hh  |ascii|` where `OOOOOOOO` is the offset in hex (8 digits), the hex
/// column is padded to 16 bytes, and the ASCII column shows printable ASCII (0x20..=0x7e) and
/// `.` otherwise. Lines are separated by `\n`, no trailing newline; empty input -> `""`.
pub fn hex_dump(bytes: &[u8]) -> String {
    let mut lines = Vec::with_capacity(bytes.len().div_ceil(16));
    for (n, chunk) in bytes.chunks(16).enumerate() {
        let mut line = format!("{:08x}  ", n * 16);
        for i in 0..16 {
            match chunk.get(i) {
                Some(b) => {
                    push_hex_byte(&mut line, *b);
                    line.push(' ');
                }
                None => line.push_str("   "),
            }
        }
        line.push(' ');
        line.push('|');
        for b in chunk {
            line.push(if (0x20..=0x7e).contains(b) {
                char::from(*b)
            } else {
                '.'
            });
        }
        line.push('|');
        lines.push(line);
    }
    lines.join("\n")
}
