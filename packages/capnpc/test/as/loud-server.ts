// A guest that serves the generated LoudEchoServer (features.capnp): LoudEcho extends Echo
// and imported.capnp's Named, so its dispatch routes three interface ids.

export * from "./sdk-exports";
import { Session, IncomingCall } from "./sdk";
import * as F from "./features";
import * as I from "./imported";

let rpc: Session | null = null;

class Counter extends F.CounterServer {
  constructor(public total: u64) { super(); }
  add(p: F.Counter_add$Params.Reader, r: F.Counter_add$Results.Builder, call: IncomingCall): void {
    this.total += p.getN();
    r.setTotal(this.total);
  }
}

class Loud extends F.LoudEchoServer {
  shout(p: F.LoudEcho_shout$Params.Reader, r: F.LoudEcho_shout$Results.Builder, call: IncomingCall): void {
    r.setText(p.getText().toUpperCase());
  }
  ping(p: F.Echo_ping$Params.Reader, r: F.Echo_ping$Results.Builder, call: IncomingCall): void {}
  echo(p: F.Echo_echo$Params.Reader, r: F.Echo_echo$Results.Builder, call: IncomingCall): void {
    r.setPayload(p.getPayload());
    r.setTag(p.getTag() + "!");
  }
  counter(p: F.Echo_counter$Params.Reader, r: F.Echo_counter$Results.Builder, call: IncomingCall): void {
    r.setCounterCap(changetype<Session>(rpc).local(new Counter(p.getStart())));
    r.setFirst(p.getStart());
  }
  shape(p: F.Echo_shape$Params.Reader, r: F.Echo_shape$Results.Builder, call: IncomingCall): void {
    const s = p.getShape();
    if (s.isCircle()) r.setArea(3 * s.getCircle() * s.getCircle());
    else if (s.isRect()) r.setArea(s.getRect().getWidth() * s.getRect().getHeight());
    else call.fail("ERR_SHAPE: no area for " + s.getName());
  }
  holder(p: F.Echo_holder$Params.Reader, r: F.Holder.Builder, call: IncomingCall): void {
    const box = r.initBox();
    box.setCount(7);
    box.setValueText("in a box");
  }
  named(p: F.Echo_named$Params.Reader, r: F.Echo_named$Results.Builder, call: IncomingCall): void {
    call.fail("ERR_UNSUPPORTED: named " + p.getName());
  }
  name(p: I.Named_name$Params.Reader, r: I.Named_name$Results.Builder, call: IncomingCall): void {
    r.setName("loud");
  }
}

export function ww_main(): i32 {
  const s = new Session();
  rpc = s;
  s.offer(new Loud());
  s.serve();
  return 0;
}
