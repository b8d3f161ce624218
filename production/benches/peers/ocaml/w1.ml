(* W1: N performs of Inc i (i = N..1) under one deep handler that continues
   with i+1 as its last action. Checksum N(N+1)/2 + N. *)
open Effect
open Effect.Deep

type _ Effect.t += Inc : int -> int Effect.t

let rec sum i acc = if i = 0 then acc else sum (i - 1) (acc + perform (Inc i))

let handle body =
  match_with body ()
    { retc = Fun.id;
      exnc = raise;
      effc = (fun (type a) (e : a Effect.t) ->
        match e with
        | Inc x -> Some (fun (k : (a, _) continuation) -> continue k (x + 1))
        | _ -> None) }

let () = Printf.printf "%d\n" (handle (fun () -> sum (int_of_string Sys.argv.(1)) 0))
