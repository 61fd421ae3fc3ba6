// The kernel's sockets send one message at a time: a fake zeromq socket that, like zeromq 6,
// defers one send by a turn and throws "busy" on a send that meets it.
const { assert, lib } = require("./helpers");

/** A socket class whose every `every`-th send is deferred a turn, during which sends throw. */
function fakeSocketClass(every) {
  const log = [];
  class Socket {
    constructor() {
      this.count = 0;
      this.busy = false;
    }
    send(msg) {
      if (this.busy) throw new Error("Socket is busy writing; only one send operation may be in progress at any time");
      this.count++;
      if (this.count % every !== 0) {
        log.push(msg);
        return Promise.resolve();
      }
      this.busy = true;
      return new Promise((resolve) =>
        setImmediate(() => {
          this.busy = false;
          log.push(msg);
          resolve();
        }),
      );
    }
  }
  // Like the native class: `send` cannot be assigned.
  Object.defineProperty(Socket.prototype, "send", { writable: false });
  return { Socket, log };
}

describe("viz: queued kernel sends", function () {
  it("a burst through a deferring socket throws without the queue", function () {
    const { Socket } = fakeSocketClass(3);
    const s = new Socket();
    assert.throws(() => {
      for (let i = 0; i < 10; i++) s.send(i);
    }, /busy writing/);
  });

  it("with the queue every message goes out, in order, and wrapping twice changes nothing", async function () {
    const { Socket, log } = fakeSocketClass(3);
    assert.equal(lib.viz.queueSends(Socket.prototype), true);
    assert.equal(lib.viz.queueSends(Socket.prototype), false, "already queued");
    const a = new Socket();
    const b = new Socket();
    const sent = [];
    for (let i = 0; i < 20; i++) sent.push(a.send(`a${i}`), b.send(`b${i}`));
    await Promise.all(sent);
    assert.deepEqual(
      log.filter((m) => m.startsWith("a")),
      Array.from({ length: 20 }, (_, i) => `a${i}`),
    );
    assert.deepEqual(
      log.filter((m) => m.startsWith("b")),
      Array.from({ length: 20 }, (_, i) => `b${i}`),
    );
  });
});
