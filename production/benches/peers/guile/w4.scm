;; W4: N computations each suspended at abort-to-prompt under their own prompt
;; whose handler returns k; held in a list; then each is resumed (returns i).
;; Checksum N(N+1)/2.
(define park (make-prompt-tag 'park))
(define (suspend i)
  (call-with-prompt park
    (lambda () (abort-to-prompt park i) i)
    (lambda (k x) k)))
(define (hold i acc) (if (= i 0) acc (hold (- i 1) (cons (suspend i) acc))))
(define n (string->number (cadr (command-line))))
(display (let loop ((ks (hold n '())) (s 0)) (if (null? ks) s (loop (cdr ks) (+ s ((car ks) 0))))))
(newline)
