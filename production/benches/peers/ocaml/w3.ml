(* W3: a FIFO scheduler written with effects (Spawn / Await). N batches: the
   main task spawns 100 tasks; each performs [Tick i], which the scheduler does
   not handle (an outer handler answers i+1), and returns the answer; main
   awaits the handles, last spawned first, and sums them. Checksum N * 5150.
   With a second argument "park", instead N tasks all await one promise that
   main completes after spawning them (memory of parked tasks). *)
open Effect
open Effect.Deep

type 'a cell = Waiting of ('a, unit) continuation list | Ready of 'a

type _ Effect.t +=
  | Spawn : (unit -> int) -> int cell ref Effect.t
  | Await : int cell ref -> int Effect.t
  | Tick : int -> int Effect.t

let ready : (unit -> unit) Queue.t = Queue.create ()
let next () = match Queue.take_opt ready with Some f -> f () | None -> ()

let fill cell v =
  (match !cell with
   | Waiting ks -> List.iter (fun k -> Queue.add (fun () -> continue k v) ready) (List.rev ks)
   | Ready _ -> failwith "filled twice");
  cell := Ready v

let rec run_task (f : unit -> int) (cell : int cell ref) : unit =
  match_with f ()
    { retc = (fun v -> fill cell v; next ());
      exnc = raise;
      effc = (fun (type a) (e : a Effect.t) ->
        match e with
        | Spawn g -> Some (fun (k : (a, unit) continuation) ->
            let c = ref (Waiting []) in
            Queue.add (fun () -> run_task g c) ready;
            continue k c)
        | Await c -> Some (fun (k : (a, unit) continuation) ->
            match !c with
            | Ready v -> continue k v
            | Waiting ks -> c := Waiting (k :: ks); next ())
        | _ -> None) }

let scheduled main =
  let root = ref (Waiting []) in
  run_task main root;
  match !root with Ready v -> v | Waiting _ -> failwith "deadlock"

let batches n () =
  let total = ref 0 in
  for _ = 1 to n do
    let hs = ref [] in
    for i = 100 downto 1 do hs := perform (Spawn (fun () -> perform (Tick i))) :: !hs done;
    List.iter (fun h -> total := !total + perform (Await h)) !hs
  done;
  !total

let parked n () =
  let p = ref (Waiting []) in
  for _ = 1 to n do ignore (perform (Spawn (fun () -> perform (Await p)))) done;
  (* let every task run to its Await, then complete the promise *)
  let last = perform (Spawn (fun () -> 0)) in
  ignore (perform (Await last));
  fill p 1;
  n

let () =
  let n = int_of_string Sys.argv.(1) in
  let main = if Array.length Sys.argv > 2 then parked n else batches n in
  let r =
    match_with (fun () -> scheduled main) ()
      { retc = Fun.id;
        exnc = raise;
        effc = (fun (type a) (e : a Effect.t) ->
          match e with
          | Tick x -> Some (fun (k : (a, _) continuation) -> continue k (x + 1))
          | _ -> None) }
  in
  Printf.printf "%d\n" r
