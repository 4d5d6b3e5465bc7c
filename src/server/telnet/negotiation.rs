//! Telnet option negotiation (RFC 854/857/858): the bytes stdbg sends on connect, and a small
//! IAC state machine that strips commands from the client's byte stream.
//!
//! Like OpenOCD 0.12 (`src/server/telnet_server.c`), stdbg asks for character mode with server
//! echo and ignores whatever the client answers: WILL/WONT/DO/DONT and their option byte are
//! swallowed, SB … IAC SE subnegotiations are skipped whatever their length.

/// Interpret As Command.
pub const IAC: u8 = 255;
/// Option negotiation verbs.
pub const WILL: u8 = 251;
/// Refuses an option.
pub const WONT: u8 = 252;
/// Asks the peer to enable an option.
pub const DO: u8 = 253;
/// Asks the peer to disable an option.
pub const DONT: u8 = 254;
/// Subnegotiation begin.
pub const SB: u8 = 250;
/// Subnegotiation end.
pub const SE: u8 = 240;
/// Interrupt Process (what some clients send for Ctrl-C).
pub const IP: u8 = 244;
/// Option: echo (RFC 857).
pub const OPT_ECHO: u8 = 1;
/// Option: suppress go-ahead (RFC 858).
pub const OPT_SGA: u8 = 3;

/// What stdbg sends on connect, in OpenOCD's order: IAC WILL SGA, IAC WILL ECHO, IAC DO SGA,
/// IAC DONT ECHO (character-at-a-time mode; the server echoes).
pub const GREETING: [u8; 12] = [
    IAC, WILL, OPT_SGA, IAC, WILL, OPT_ECHO, IAC, DO, OPT_SGA, IAC, DONT, OPT_ECHO,
];

/// A byte of the client's stream after telnet commands are removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A data byte (IAC IAC yields 0xFF).
    Data(u8),
    /// IAC IP: the client asked to interrupt (treated like Ctrl-C).
    Interrupt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Data,
    Iac,
    /// After WILL/WONT/DO/DONT: the next byte is the option.
    Option,
    /// Inside SB … (until IAC SE).
    Sub,
    /// IAC seen inside a subnegotiation.
    SubIac,
}

/// The IAC state machine. Feed it every received byte; it never fails.
#[derive(Debug, Default)]
pub struct Decoder {
    state: State,
}

impl Decoder {
    /// A decoder in the data state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Consumes one received byte; returns the data byte or event it yields, if any.
    pub fn feed(&mut self, b: u8) -> Option<Input> {
        match self.state {
            State::Data => {
                if b == IAC {
                    self.state = State::Iac;
                    None
                } else {
                    Some(Input::Data(b))
                }
            }
            State::Iac => {
                self.state = State::Data;
                match b {
                    IAC => Some(Input::Data(IAC)),
                    WILL | WONT | DO | DONT => {
                        self.state = State::Option;
                        None
                    }
                    SB => {
                        self.state = State::Sub;
                        None
                    }
                    IP => Some(Input::Interrupt),
                    // NOP, DM, BRK, AO, AYT, EC, EL, GA, a stray SE: ignored.
                    _ => None,
                }
            }
            State::Option => {
                self.state = State::Data;
                None
            }
            State::Sub => {
                if b == IAC {
                    self.state = State::SubIac;
                }
                None
            }
            State::SubIac => {
                self.state = if b == SE { State::Data } else { State::Sub };
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Vec<Input> {
        let mut d = Decoder::new();
        bytes.iter().filter_map(|&b| d.feed(b)).collect()
    }

    #[test]
    fn strips_negotiation_and_subnegotiation() {
        let mut s = vec![
            b'a', IAC, DO, OPT_ECHO, b'b', IAC, SB, 24, 0, b'x', b't', IAC, IAC, 9, IAC, SE, b'c',
        ];
        s.extend([IAC, WONT, OPT_SGA, IAC, IAC, IAC, IP, IAC, 241]);
        let data = decode(&s);
        assert_eq!(
            data,
            vec![
                Input::Data(b'a'),
                Input::Data(b'b'),
                Input::Data(b'c'),
                Input::Data(IAC),
                Input::Interrupt
            ]
        );
    }

    #[test]
    fn every_byte_pair_is_handled() {
        // No panic and the machine always returns to data after IAC x y for verbs.
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let mut d = Decoder::new();
                let _ = d.feed(IAC);
                let _ = d.feed(a);
                let _ = d.feed(b);
            }
        }
    }
}
