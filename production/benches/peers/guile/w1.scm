;; W1: N performs of Inc i = abort-to-prompt; the handler reinstalls its
;; prompt around the continuation and resumes it with i+1 in tail position.
;; Checksum N(N+1)/2 + N.
(define inc (make-prompt-tag 'inc))
(define (handle-inc thunk)
  (call-with-prompt inc thunk
    (lambda (k x) (handle-inc (lambda () (k (+ x 1)))))))
(define (sum i acc) (if (= i 0) acc (sum (- i 1) (+ acc (abort-to-prompt inc i)))))
(define n (string->number (cadr (command-line))))
(display (handle-inc (lambda () (sum n 0)))) (newline)
