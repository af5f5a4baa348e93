// The security suite starts many containers per case and waits out
// grace periods: give each case minutes, not jest's default five seconds
// (testTimeout is a global option, so the project sets it here).
jest.setTimeout(300_000);
