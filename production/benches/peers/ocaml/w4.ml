(* W4: N computations, each suspended at [perform (Park i)] under its own
   handler whose clause returns k; held in a list, then each is continued (it
   returns i). Checksum N(N+1)/2. *)
open Effect
open Effect.Deep

type _ Effect.t += Park : int -> int Effect.t
type parked = Finished of int | Suspended of (int, parked) continuation

let suspend i : parked =
  match_with (fun () -> ignore (perform (Park i)); Finished i) ()
    { retc = Fun.id;
      exnc = raise;
      effc = (fun (type a) (e : a Effect.t) ->
        match e with
        | Park _ -> Some (fun (k : (a, parked) continuation) -> Suspended k)
        | _ -> None) }

let () =
  let n = int_of_string Sys.argv.(1) in
  let rec hold i acc = if i = 0 then acc else hold (i - 1) (suspend i :: acc) in
  let finish s = function
    | Suspended k -> (match continue k 0 with Finished i -> s + i | Suspended _ -> failwith "parked twice")
    | Finished _ -> failwith "never parked" in
  Printf.printf "%d\n" (List.fold_left finish 0 (hold n []))
